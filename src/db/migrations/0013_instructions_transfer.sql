-- Order control (GDPR Art. 28(3)(a)): the client's documented instructions,
-- versioned, a version in force once an operator confirmed it; purposes that
-- collections and API keys are bound to; the platform's sub-processor register
-- with its announcements (an outbox per tenant) and the tenants' objections.

create table instructions (
  tenant_id uuid not null references tenants (id),
  version int not null check (version >= 1),
  -- purposes, dataCategories, retention, recipients, transfers: the client's words, no personal data.
  body jsonb not null,
  entered_by_type text not null,
  entered_by_id text not null,
  entered_by_role text not null,
  entered_at timestamptz not null,
  confirmed_by_type text,
  confirmed_by_id text,
  confirmed_at timestamptz,
  primary key (tenant_id, version),
  check ((confirmed_at is null) = (confirmed_by_id is null))
);

-- Where the tenant hears of sub-processor changes (a webhook, sent through the egress module).
create table tenant_notification_targets (
  tenant_id uuid primary key references tenants (id),
  url text not null,
  updated_at timestamptz not null
);

-- The platform's register: what every tenant's data may pass through.
create table sub_processors (
  id uuid primary key,
  name text not null,
  service text not null,
  country text not null check (country ~ '^[A-Z]{2}$'),
  data_categories jsonb not null,
  dpa_date date not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  removed_at timestamptz
);

-- Each change, announced to every tenant; objections are taken until objection_deadline.
create table sub_processor_changes (
  id uuid primary key,
  sub_processor_id uuid not null references sub_processors (id),
  kind text not null check (kind in ('added', 'changed', 'removed')),
  -- the entry as it reads after the change (name, service, country, categories, DPA date)
  snapshot jsonb not null,
  announced_at timestamptz not null,
  objection_deadline timestamptz not null
);

grant select on sub_processors, sub_processor_changes to tresor_app;

-- A tenant's objection to an announced sub-processor change (one per change).
create table sub_processor_objections (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  change_id uuid not null references sub_processor_changes (id),
  reason text not null,
  objected_by_type text not null,
  objected_by_id text not null,
  created_at timestamptz not null,
  primary key (tenant_id, id),
  unique (tenant_id, change_id)
);

do $$
declare t text;
begin
  foreach t in array array['instructions', 'tenant_notification_targets', 'sub_processor_objections'] loop
    execute format('alter table %I enable row level security', t);
    execute format('alter table %I force row level security', t);
    execute format($p$create policy tenant_isolation on %I
      using (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)
      with check (tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)$p$, t);
  end loop;
end
$$;
grant select, insert, update on instructions to tresor_app;
grant select, insert, update, delete on tenant_notification_targets to tresor_app;
grant select, insert on sub_processor_objections to tresor_app;
-- Operators read every tenant's objections, outside any tenant context (the
-- platform transaction, never the app role).
create policy platform_read on sub_processor_objections for select
  using (coalesce(current_setting('app.tenant_id', true), '') = '');

-- Purposes (ids from the tenant's instruction) a collection's data serves; an
-- API key limited to some purposes (null: whatever the collection serves).
alter table collections add column purposes jsonb not null default '[]';
alter table api_keys add column purposes jsonb;

-- One delivery per change and tenant, retried with backoff until delivered or given up.
create table sub_processor_outbox (
  change_id uuid not null references sub_processor_changes (id),
  tenant_id uuid not null references tenants (id),
  attempts int not null default 0,
  next_attempt_at timestamptz not null,
  delivered_at timestamptz,
  -- a reason code (no_target, transfer.failed, ...), never a response body
  last_error text,
  primary key (change_id, tenant_id)
);
create index sub_processor_outbox_due on sub_processor_outbox (next_attempt_at) where delivered_at is null;
