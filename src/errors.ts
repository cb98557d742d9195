// One catalogue of every code Tresor reports. A code is a stable, dotted
// identifier that clients may switch on; the title is fixed per code and the
// detail explains the instance. Neither ever carries a personal field value.
// docs/errors.md is generated from this file (npm run docs).

interface Entry { title: string; description: string }

/** Codes a client receives as the `code` of a problem+json answer. */
export const errorCatalogue = {
  'request.invalid_json': { status: 400, title: 'The request body is not valid JSON',
    description: 'The body could not be parsed as JSON, or it was empty where JSON was expected.' },
  'request.invalid_utf8': { status: 400, title: 'The request body is not valid UTF-8',
    description: 'JSON bodies must be UTF-8; invalid byte sequences are refused rather than replaced.' },
  'request.validation_failed': { status: 400, title: 'The request does not match the schema',
    description: 'Path, query, headers or body break the route\'s schema; `problems` lists each place (at most 100, `problemsTotal` counts all).' },
  'request.body_too_large': { status: 413, title: 'The request body is too large',
    description: 'The body exceeds TRESOR_BODY_LIMIT (JSON) or TRESOR_IMPORT_LIMIT (NDJSON imports).' },
  'request.unsupported_media_type': { status: 415, title: 'Unsupported content type',
    description: 'The API accepts application/json, and application/x-ndjson on the import route only.' },
  'request.malformed_http': { status: 400, title: 'The request is not valid HTTP',
    description: 'The request line or a header could not be parsed; the connection is closed.' },
  'request.headers_too_large': { status: 431, title: 'The request headers are too large',
    description: 'The headers exceed Node\'s limit (16 KiB by default); the connection is closed.' },
  'request.timeout': { status: 408, title: 'The request did not arrive in time',
    description: 'The headers or body took longer than TRESOR_HEADERS_TIMEOUT_MS or TRESOR_IMPORT_TIMEOUT_MS; the connection is closed.' },
  'request.invalid_url': { status: 400, title: 'The request path is not valid',
    description: 'The path has a bad percent-encoding, or a segment longer than any id or name can be.' },
  'request.invalid_cursor': { status: 400, title: 'The pagination cursor is not valid',
    description: 'Pass back the `nextCursor` of a previous page unchanged.' },
  'request.invalid_if_match': { status: 400, title: 'If-Match must be a record version number',
    description: 'If-Match takes the record\'s version as sent in its ETag, e.g. "3".' },
  'route.not_found': { status: 404, title: 'No such route',
    description: 'No route matches this method and path.' },
  'route.method_not_allowed': { status: 405, title: 'The path does not allow this method',
    description: 'The path exists; the Allow header lists the methods it accepts.' },
  'problem.not_found': { status: 404, title: 'No such error code',
    description: 'GET /problems/{code} knows only the codes of this catalogue.' },
  'transport.https_required': { status: 403, title: 'HTTPS is required',
    description: 'Tresor listens on a non-loopback address without TLS, so it answers only requests that a trusted proxy (TRESOR_TRUSTED_PROXIES) forwards with `X-Forwarded-Proto: https`; connect over HTTPS through that proxy.' },
  'auth.missing_credentials': { status: 401, title: 'An API key or a session is required',
    description: 'Send Authorization: Bearer <api key>, or the session cookie `__Host-tresor` where the route accepts sessions.' },
  'auth.invalid_credentials': { status: 401, title: 'The API key or session is not valid',
    description: 'The key is malformed, unknown, revoked or expired; or the session is unknown, ended, past its idle or absolute timeout, or its user was deactivated.' },
  'auth.csrf_failed': { status: 403, title: 'The CSRF token is missing or wrong',
    description: 'A write authenticated by the session cookie must send the session\'s `csrfToken` as X-CSRF-Token.' },
  'auth.login_failed': { status: 401, title: 'The login failed',
    description: 'Unknown account, wrong password or deactivated user: answered alike, so accounts cannot be probed.' },
  'auth.mfa_failed': { status: 401, title: 'The code is not valid',
    description: 'The TOTP code is wrong, expired or already used, or the recovery code is unknown or used.' },
  'auth.token_invalid': { status: 401, title: 'The token is not valid',
    description: 'The invitation, enrolment, login or reset token is unknown, expired or already used.' },
  'auth.too_many_attempts': { status: 429, title: 'Too many failed attempts',
    description: 'The account or source address is locked for a while after repeated failures (TRESOR_LOGIN_*); Retry-After says how long.' },
  'auth.wrong_password': { status: 403, title: 'The current password is not right',
    description: 'Changing a password needs the current one.' },
  'auth.password_rejected': { status: 422, title: 'The password does not meet the policy',
    description: 'The new password breaks a rule of the tenant\'s password policy; `problems` names each with a password.* sub-code.' },
  'auth.mfa_already_enrolled': { status: 409, title: 'Two-factor authentication is already set up',
    description: 'The user has a confirmed authenticator; an admin can reset it (`tresor user reset-mfa`).' },
  'user.not_found': { status: 404, title: 'No such user',
    description: 'The tenant has no user with this id.' },
  'user.email_taken': { status: 409, title: 'A user with this e-mail exists',
    description: 'E-mail addresses are unique per tenant (compared trimmed, NFC and lower case).' },
  'user.role_not_grantable': { status: 403, title: 'That role cannot be granted by this actor',
    description: 'Nobody grants a role above their own (only owners grant or change owner); operators only invite a tenant\'s first owner.' },
  'user.last_owner': { status: 409, title: 'The last active owner must stay',
    description: 'Make another user owner before demoting or deactivating this one.' },
  'auth.forbidden': { status: 403, title: 'This role may not do that',
    description: 'The key\'s role lacks the permission this route needs (see the role matrix in docs/api.md).' },
  'auth.out_of_scope': { status: 403, title: 'This key is limited to other collections',
    description: 'A key made with `collections` reaches only those collections\' routes and reading its tenant.' },
  'auth.role_not_grantable': { status: 403, title: 'This role may not hand out that role',
    description: 'Roles are handed out only at or below the giver\'s rank: an admin cannot make an owner, and nobody raises their own role.' },
  'tenant.not_found': { status: 404, title: 'No such tenant',
    description: 'The tenant does not exist, or the key belongs to another tenant (answered alike, so keys cannot probe).' },
  'tenant.not_active': { status: 409, title: 'The tenant is not active',
    description: 'The tenant is closed (read-only until it is reopened or purged) or purged: creating collections, writing, importing or deleting records, changing retention policies and rotating keys are refused; reads and exports still work.' },
  'tenant.already_closed': { status: 409, title: 'The tenant is already closed',
    description: 'A closed or purged tenant cannot be closed again; GET /v1/tenants/{id} shows its status and purgeAfter.' },
  'tenant.not_closed': { status: 409, title: 'The tenant is not closed',
    description: 'Only a closed tenant can be reopened.' },
  'tenant.keys_destroyed': { status: 409, title: 'The tenant\'s keys are destroyed',
    description: 'The retention period after closure ended and the tenant\'s keys were destroyed (crypto-shredding): it cannot be reopened; its deletion certificate is at GET /v1/tenants/{id}/deletion-certificates. A copy of the tenant restored from a backup made before the purge answers this to every request that needs its keys: its secret is gone from TRESOR_TENANT_KEY_DIR, so nothing of it decrypts.' },
  'export.invalid_recipient_key': { status: 422, title: 'The recipient key is not an X25519 public key',
    description: '`recipientKey` must be an X25519 public key in PEM (SPKI, `-----BEGIN PUBLIC KEY-----`), e.g. from `openssl pkey -in private.pem -pubout`; nothing was read or sent.' },
  'retention.not_found': { status: 404, title: 'The collection has no retention policy',
    description: 'Set one with PUT /v1/tenants/{id}/collections/{name}/retention.' },
  'retention.invalid_policy': { status: 422, title: 'The retention policy is not valid',
    description: 'basis `field` needs `field`: a date field classified `none` (encrypted values cannot be compared by the database); the other bases take no field.' },
  'api_key.not_found': { status: 404, title: 'No such API key',
    description: 'No active key with this id in this tenant (or among operator keys).' },
  'api_key.invalid_role': { status: 422, title: 'That role cannot be given to this key',
    description: 'Tenant keys are owner, admin, editor, viewer or auditor; operator keys are made on /v1/operator-keys.' },
  'api_key.invalid_expiry': { status: 422, title: 'The key\'s expiry is not in the future',
    description: '`expiresAt` must lie in the future (at most TRESOR_API_KEY_MAX_DAYS ahead).' },
  'api_key.last_operator': { status: 409, title: 'The last active operator key cannot be revoked',
    description: 'Create another operator key first; after the last is gone, recovery is `tresor operator-key create` on the stopped store.' },
  'support_grant.not_found': { status: 404, title: 'No such support grant',
    description: 'The tenant has no support grant with this id.' },
  'support_grant.not_pending': { status: 409, title: 'The support grant is not pending',
    description: 'Only a pending grant can be approved; an approved grant runs until it expires, then support asks again.' },
  'collection.not_found': { status: 404, title: 'No such collection',
    description: 'The tenant has no collection of this name.' },
  'collection.already_exists': { status: 409, title: 'A collection with this name exists',
    description: 'Collection names are unique per tenant.' },
  'collection.invalid_definition': { status: 422, title: 'The collection definition is not valid',
    description: 'The field definitions break a rule; `problems` names each with a collection.* sub-code.' },
  'record.not_found': { status: 404, title: 'No such record',
    description: 'The collection holds no record with this id.' },
  'record.validation_failed': { status: 422, title: 'The record data is not valid',
    description: 'One or more fields break their type or rules; `problems` names each field with a record.* sub-code.' },
  'record.unique_violation': { status: 409, title: 'A unique field value is already taken',
    description: 'Another record holds the same value in a unique field; `problems` names the field, never the value.' },
  'record.version_mismatch': { status: 412, title: 'The record was changed since that version',
    description: 'If-Match named an older version; read the record again and retry.' },
  'record.search_invalid': { status: 422, title: 'The search is not valid',
    description: 'The search names unknown or unsearchable fields, or values of the wrong type; see `problems`.' },
  'payment.card_data_rejected': { status: 422, title: 'The data holds a payment card number',
    description: 'A value looks like a primary account number (13–19 digits, Luhn-valid, a known issuer range and length; spaces and dashes, nested JSON and longer text included). Tresor never stores card data: keep a `payment_event` field (at, status, providerRef). `problems` names each field and its JSON pointer, never the value; nothing was stored.' },
  'subject.where_invalid': { status: 400, title: 'The subject lookup is not valid',
    description: '`where` names a field no collection of the tenant has, a field that is searchable in none of them, or a value of the wrong type; see `problems` (field names, never values).' },
  'subject.too_many_records': { status: 422, title: 'The subject matches too many records',
    description: 'A data-subject request handles at most 1000 records at once; narrow `where` (add a field) and repeat.' },
  'subject.legal_hold': { status: 409, title: 'The subject is under a legal hold',
    description: 'An active legal hold covers records of this subject: they cannot be erased until the hold is released (DELETE …/legal-holds/{holdId}).' },
  'legal_hold.not_found': { status: 404, title: 'No such active legal hold',
    description: 'The tenant has no active legal hold with this id (it never existed, or was released).' },
  'keys.rotation_in_progress': { status: 409, title: 'A key rotation is already running for this tenant',
    description: 'Wait until GET /v1/tenants/{id}/keys reports rotating: false; records listed under `unreadable` there must be discarded first.' },
  'keys.tenant_secret_missing': { status: 503, title: 'This node cannot find the tenant\'s key secret',
    description: 'The tenant\'s keys are wrapped under a key derived from the root key and a secret in TRESOR_TENANT_KEY_DIR, and that secret is not there on this node. Every node must share the directory, like the root key file; restore it from the key-directory backup. Nothing was changed.' },
  'keys.unreadable_not_found': { status: 404, title: 'No record of this tenant is set aside as unreadable under that id',
    description: 'Only records listed under `unreadable` in GET /v1/tenants/{id}/keys can be discarded; a readable record never is.' },
  'pseudonym.not_found': { status: 404, title: 'No such pseudonym',
    description: 'No live mapping of this pseudonym under that field or purpose in this tenant: unknown, retired after its mapping period, or another tenant\'s (answered alike).' },
  'pseudonym.too_many_versions': { status: 409, title: 'Too many pseudonym key versions are live',
    description: 'Each rotation leaves the old version resolvable for TRESOR_PSEUDONYM_MAPPING_DAYS; rotate again once the oldest has retired.' },
  'audit.no_tree_head': { status: 404, title: 'The audit log has no signed tree head yet',
    description: 'The sequencer signs the first head within TRESOR_AUDIT_SEQUENCE_MS of start; ask again shortly.' },
  'audit.entry_not_found': { status: 404, title: 'No audit log entry at this seq',
    description: 'The seq is not sequenced yet, or (for a tenant key) the entry belongs to another tenant (answered alike).' },
  'audit.entry_redacted': { status: 410, title: 'The audit entry was redacted by retention',
    description: 'Its leaf hash stays in the tree, so proofs still verify; the entry\'s bytes are gone.' },
  'audit.tree_size_out_of_range': { status: 422, title: 'The tree size is out of range',
    description: 'treeSize and second must not exceed the log\'s current size (GET /v1/audit/tree-head), and first must not exceed second.' },
  'audit.seq_out_of_range': { status: 422, title: 'The seq is out of range',
    description: 'An inclusion proof needs 0 <= seq < treeSize.' },
  'audit.invalid_range': { status: 400, title: 'The time range is empty',
    description: '`from` must be earlier than `to`.' },
  'backup.not_found': { status: 404, title: 'No such backup',
    description: 'No finished backup with this id is in TRESOR_BACKUP_DIR (GET /v1/backups lists them).' },
  'backup.in_progress': { status: 409, title: 'A backup is already being made',
    description: 'This server makes one backup at a time; retry when the running one has finished.' },
  'backup.verification_in_progress': { status: 409, title: 'A restore verification is already running',
    description: 'This server runs one restore verification at a time; follow the running one (GET /v1/backups/verifications/{verificationId}/status) and retry when it has finished.' },
  'backup.verification_not_found': { status: 404, title: 'No such restore verification',
    description: 'No verification with this id was started on this server or recorded in the evidence (GET /v1/backups/verifications lists them).' },
  'backup.unsupported_store': { status: 409, title: 'This store is not backed up by Tresor',
    description: 'Tresor backs up the embedded store itself; a PostgreSQL deployment is backed up with pgBackRest (see docs/operations.md, Backups).' },
  'instruction.not_covered': { status: 403, title: 'The client\'s instruction does not cover this operation',
    description: 'The tenant\'s current confirmed instruction names none of the purposes this operation serves (the collection\'s purposes, narrowed to the API key\'s), or the tenant has no confirmed instruction and TRESOR_REQUIRE_INSTRUCTION is on. Recorded as the security event `instruction.not_covered`.' },
  'instruction.invalid': { status: 422, title: 'The instruction is not valid',
    description: 'Purpose ids must be unique, and each transfer destination an http(s) URL prefix without credentials, query or fragment.' },
  'instruction.conflict': { status: 409, title: 'Another version was entered at the same time',
    description: 'Two versions were entered at once; read the history and enter yours again.' },
  'instruction.not_found': { status: 404, title: 'No such instruction version',
    description: 'The tenant has no instruction with this version (GET /v1/tenants/{tenantId}/instructions lists them).' },
  'instruction.already_confirmed': { status: 409, title: 'This version is already confirmed',
    description: 'A version is confirmed once; enter a new version to change the instructions.' },
  'sub_processor.not_found': { status: 404, title: 'No such sub-processor',
    description: 'The register has no current sub-processor with this id (GET /v1/sub-processors lists them).' },
  'sub_processor.change_not_found': { status: 404, title: 'No such sub-processor change',
    description: 'No announced change has this id (GET /v1/sub-processors lists the latest).' },
  'sub_processor.objection_period_over': { status: 409, title: 'The objection period of this change is over',
    description: 'Objections are taken until the change\'s objectionDeadline (TRESOR_SUB_PROCESSOR_OBJECTION_DAYS after its announcement).' },
  'sub_processor.already_objected': { status: 409, title: 'The tenant has objected to this change already',
    description: 'One objection per change and tenant; GET /v1/tenants/{tenantId}/sub-processors/objections shows it.' },
  'incident.not_found': { status: 404, title: 'No such incident',
    description: 'The register holds no incident with this id; for a tenant, no incident that affects it (answered alike).' },
  'incident.aware_in_future': { status: 422, title: 'Aware-at lies in the future',
    description: '`awareAt` (and `detectedAt`) must not lie ahead of the server\'s clock: the 72-hour clock starts when the controller or processor became aware.' },
  'incident.aware_before_detected': { status: 422, title: 'Aware-at lies before detected-at',
    description: 'Awareness follows detection: `awareAt` must be at or after `detectedAt`.' },
  'incident.closed': { status: 409, title: 'The incident is closed',
    description: 'A closed incident takes no further events, decisions or queries; its documentation stays readable and exportable.' },
  'incident.undecided': { status: 409, title: 'The notifiability decision is missing',
    description: 'Record the decision (POST /v1/incidents/{incidentId}/decision, with its reason) before closing: Art. 33(5) asks for it.' },
  'incident.invalid_window': { status: 422, title: 'The query window is not valid',
    description: '`from` must lie before `to`, and `to` not in the future.' },
  'transfer.destination_not_allowed': { status: 422, title: 'The destination is not on the egress allowlist',
    description: 'Tresor sends data only to URL prefixes listed in TRESOR_EGRESS_ALLOW (http or https, no credentials in the URL); the attempt is in the transfer log.' },
  'transfer.outside_eea': { status: 422, title: 'The destination lies outside the EU/EEA',
    description: 'Its allowlist entry names a country outside the EU/EEA, and the tenant\'s confirmed instruction names no transfer (destination and mechanism) covering it.' },
  'transfer.address_forbidden': { status: 422, title: 'The destination resolves to an internal address',
    description: 'A private, loopback, link-local, unique-local, CGNAT, unspecified, multicast or reserved address is reached only when its allowlist entry is marked `internal`, literal IP prefixes included (SSRF).' },
  'transfer.redirect_refused': { status: 502, title: 'The destination answered with a redirect',
    description: 'Redirects are never followed; point the destination at the final URL.' },
  'transfer.failed': { status: 502, title: 'The transfer failed',
    description: 'The name did not resolve, the connection failed or timed out (TRESOR_EGRESS_TIMEOUT_MS), the answer was too large, or the destination answered with an error status.' },
  'tom.entry_not_found': { status: 404, title: 'No such measure in the TOM register',
    description: 'The key names no measure of the register (GET /v1/tom/entries lists them).' },
  'tom.invalid_entry': { status: 422, title: 'The change to the measure is not valid',
    description: 'A review date must not lie in the future.' },
  'tom.invalid_attestation': { status: 422, title: 'The attestation is not valid',
    description: 'attestedAt must not lie in the future, nextReviewAt must lie after it, and a document is given either itself or by its SHA-256, not both.' },
  'tom.document_too_large': { status: 422, title: 'The attested document is too large',
    description: 'A document attached to an attestation may be at most TRESOR_TOM_DOCUMENT_MAX_BYTES; give its SHA-256 instead.' },
  'tom.pdf_unavailable': { status: 503, title: 'The annex could not be printed to PDF',
    description: 'Headless Chromium (TRESOR_CHROMIUM_PATH) is missing, failed or took longer than TRESOR_PDF_TIMEOUT_MS; the HTML and Markdown annexes still work.' },
  'tom.pdf_busy': { status: 503, title: 'Too many PDF annexes are being printed, retry later',
    description: 'One annex is printed to PDF at a time per process and TRESOR_PDF_QUEUE more may wait; retry after the Retry-After seconds, or ask for HTML or Markdown.' },
  'service.unavailable': { status: 503, title: 'The database is unavailable, retry later',
    description: 'The database cannot be reached or is not migrated yet; retry after the Retry-After seconds.' },
  'internal.error': { status: 500, title: 'Internal error',
    description: 'An unexpected failure; the server log has the details under the request id.' },
} as const satisfies Record<string, Entry & { status: number }>;

/**
 * Codes inside an answer: per field or path in `problems`, per line in an
 * import's `rejected` (`in: 'import'`, a 200 answer). `in` names the answers that carry them.
 */
export const subCodeCatalogue = {
  'request.unknown_property': { in: ['request.validation_failed'], title: 'Unknown property',
    description: 'The object has a property the schema does not allow; its name is given only if it looks like a field name.' },
  'request.missing_property': { in: ['request.validation_failed'], title: 'Missing property',
    description: 'A required property is absent.' },
  'request.invalid_value': { in: ['request.validation_failed'], title: 'Invalid value',
    description: 'The value has the wrong type, format, length or range for the schema.' },
  'collection.invalid_name': { in: ['collection.invalid_definition'], title: 'Invalid collection name',
    description: 'Collection names match ^[a-z][a-z0-9_]{0,62}$.' },
  'collection.no_fields': { in: ['collection.invalid_definition'], title: 'No fields',
    description: 'A collection needs at least one field.' },
  'collection.too_many_fields': { in: ['collection.invalid_definition'], title: 'Too many fields',
    description: 'A collection may have at most TRESOR_MAX_FIELDS fields.' },
  'collection.duplicate_field': { in: ['collection.invalid_definition'], title: 'Duplicate field name',
    description: 'Two fields have the same name.' },
  'collection.invalid_field_name': { in: ['collection.invalid_definition'], title: 'Invalid field name',
    description: 'Field names match ^[a-z][a-z0-9_]{0,62}$.' },
  'collection.invalid_type': { in: ['collection.invalid_definition'], title: 'Unknown field type',
    description: 'The field type is not one of the supported types.' },
  'collection.invalid_option': { in: ['collection.invalid_definition'], title: 'Invalid field option',
    description: 'A field option has the wrong type or an out-of-range value, or does not apply to this type.' },
  'collection.unknown_option': { in: ['collection.invalid_definition'], title: 'Unknown field option',
    description: 'The field definition has an option Tresor does not know.' },
  'collection.field_not_indexable': { in: ['collection.invalid_definition'], title: 'Field cannot be indexed',
    description: 'Fields of this type cannot be searchable or unique.' },
  'record.invalid_data': { in: ['record.validation_failed'], title: 'Record data is not an object',
    description: '`data` must be a JSON object of field names to values.' },
  'record.unknown_field': { in: ['record.validation_failed', 'record.search_invalid', 'subject.where_invalid'], title: 'Unknown field',
    description: 'The collection has no field of this name.' },
  'record.required_field': { in: ['record.validation_failed', 'record.search_invalid', 'subject.where_invalid'], title: 'Required field missing',
    description: 'A required field (or a search term\'s value) is missing.' },
  'record.invalid_type': { in: ['record.validation_failed', 'record.search_invalid', 'subject.where_invalid'], title: 'Wrong value type',
    description: 'The value has the wrong JSON type for the field.' },
  'record.invalid_value': { in: ['record.validation_failed'], title: 'Invalid value',
    description: 'The value contains NUL characters or unpaired surrogates, or nests too deeply.' },
  'record.too_long': { in: ['record.validation_failed'], title: 'Value too long',
    description: 'The value exceeds the field\'s maxLength (or the JSON size limit).' },
  'record.too_large': { in: ['record.validation_failed', 'import'], title: 'Record too large',
    description: 'The record data serialises to more than TRESOR_RECORD_MAX_BYTES of JSON.' },
  'record.invalid_email': { in: ['record.validation_failed', 'record.search_invalid', 'subject.where_invalid'], title: 'Invalid e-mail address',
    description: 'The value is not a valid e-mail address.' },
  'record.invalid_phone': { in: ['record.validation_failed', 'record.search_invalid', 'subject.where_invalid'], title: 'Invalid phone number',
    description: 'The value is not a valid international phone number.' },
  'record.invalid_date': { in: ['record.validation_failed', 'record.search_invalid', 'subject.where_invalid'], title: 'Invalid date',
    description: 'The value is not a real calendar date in the form YYYY-MM-DD.' },
  'record.invalid_number': { in: ['record.validation_failed', 'record.search_invalid', 'subject.where_invalid'], title: 'Invalid number',
    description: 'The value is not a finite number.' },
  'record.invalid_boolean': { in: ['record.validation_failed'], title: 'Invalid boolean',
    description: 'The value is not true or false.' },
  'record.field_not_searchable': { in: ['record.search_invalid', 'subject.where_invalid'], title: 'Field not searchable',
    description: 'Only fields defined as searchable or unique can be searched.' },
  'record.search_empty': { in: ['record.search_invalid'], title: 'Empty search',
    description: '`where` must name at least one searchable field.' },
  'record.unique_violation': { in: ['record.unique_violation', 'import'], title: 'Unique value taken',
    description: 'The value of this unique field is already taken (by a stored record or an earlier line of the import).' },
  'payment.card_data_rejected': { in: ['payment.card_data_rejected', 'import'], title: 'Payment card number',
    description: 'The field (at `path`) holds what looks like a payment card number; the value is never echoed or logged.' },
  'record.invalid_payment_event': { in: ['record.validation_failed'], title: 'Invalid payment event',
    description: 'A payment_event is an object with `at` (RFC 3339 date-time with a zone), `status` (^[a-z][a-z0-9_]{0,31}$) and optionally `providerRef` (1–128 printable ASCII characters), nothing else.' },
  'password.too_short': { in: ['auth.password_rejected'], title: 'Password too short',
    description: 'Shorter than the policy\'s minimum length.' },
  'password.too_long': { in: ['auth.password_rejected'], title: 'Password too long',
    description: 'Longer than TRESOR_PASSWORD_MAX_LENGTH.' },
  'password.common': { in: ['auth.password_rejected'], title: 'Common password',
    description: 'The password is on the list of commonly used passwords.' },
  'password.personal': { in: ['auth.password_rejected'], title: 'Password contains the user\'s e-mail or name',
    description: 'The password contains the user\'s e-mail address, its local part or name.' },
  'password.composition': { in: ['auth.password_rejected'], title: 'Password composition',
    description: 'The policy asks for lower case, upper case, a digit and a symbol.' },
  'password.reused': { in: ['auth.password_rejected'], title: 'Password used before',
    description: 'The password is the current one or one of the last the policy remembers.' },
  'import.invalid_json': { in: ['import'], title: 'Line is not JSON',
    description: 'The import line could not be parsed as JSON.' },
  'import.invalid_line': { in: ['import'], title: 'Line is not a record',
    description: 'An import line must be an object with exactly one key, `data`.' },
  'import.line_too_long': { in: ['import'], title: 'Line too long',
    description: 'The import line exceeds TRESOR_IMPORT_LINE_MAX_BYTES; it is skipped unread.' },
  'import.invalid_utf8': { in: ['import'], title: 'Line is not UTF-8',
    description: 'The import line holds invalid UTF-8; it is refused rather than repaired.' },
} as const satisfies Record<string, Entry & { in: readonly (keyof typeof errorCatalogue | 'import')[] }>;

/** Start-up failures: printed to the terminal and logged, the process exits. */
export const startupCatalogue = {
  'config.invalid': { title: 'The configuration is not valid',
    description: 'One or more settings are missing, malformed or out of range; every problem is listed at once.' },
  'config.tls_required': { title: 'Plain HTTP on a non-loopback address',
    description: 'HOST is not a loopback address and no TLS is configured: set TRESOR_TLS_CERT_FILE and TRESOR_TLS_KEY_FILE, or put a TLS-terminating proxy in front and name it in TRESOR_TRUSTED_PROXIES, or bind 127.0.0.1.' },
  'config.tls_invalid': { title: 'The TLS certificate or key cannot be used',
    description: 'TRESOR_TLS_CERT_FILE or TRESOR_TLS_KEY_FILE cannot be read, is not PEM, or the key does not belong to the certificate.' },
  'store.tls_failed': { title: 'PostgreSQL\'s certificate was not accepted',
    description: 'The TLS connection to DATABASE_URL failed verification (sslmode=verify-full): the certificate does not chain to TRESOR_DATABASE_CA_FILE (or the system CAs), has expired, or does not name the host of DATABASE_URL.' },
  'store.locked': { title: 'The embedded store is in use',
    description: 'Another process holds the PGlite data directory; stop it or use its HTTP API.' },
  'config.key_file_missing': { title: 'The root key file is missing',
    description: 'The database holds keys wrapped by a root key file that is not at TRESOR_KEY_FILE; restore it.' },
  'config.key_file_permissions': { title: 'The root key file is readable by others',
    description: 'The root key file must be mode 0600 (or stricter) and owned by the service user.' },
  'config.key_file_invalid': { title: 'The root key file is not valid',
    description: 'The root key file must be a regular file of exactly 32 bytes.' },
  'config.passphrase_too_short': { title: 'The passphrase is too short',
    description: 'TRESOR_KEY_PASSPHRASE is shorter than the minimum length.' },
  'config.passphrase_salt_invalid': { title: 'The passphrase salt is not valid',
    description: 'The recorded passphrase salt is too short; the database may be damaged.' },
  'config.key_provider_mismatch': { title: 'Wrong key provider',
    description: 'The database\'s keys are wrapped by another key provider than TRESOR_KEY_PROVIDER.' },
  'config.root_key_mismatch': { title: 'Wrong root key',
    description: 'The root key is not the one that wraps this database\'s keys; restore the right key file or passphrase.' },
  'cli.usage': { title: 'The command line is not valid',
    description: 'An unknown command or option, or a missing required option or argument; `tresor <command> --help` shows the usage (exit code 64).' },
  'cli.unreachable': { title: 'The server could not be reached',
    description: 'The connection to TRESOR_URL (or --url) failed; the message names the URL and the cause (refused, host not found, timed out).' },
  'cli.file_unreadable': { title: 'The input file cannot be read',
    description: 'The file named on the command line does not exist or is not readable.' },
  'cli.failed': { title: 'The command failed',
    description: 'An unexpected local failure; the detail says what failed.' },
  'backup.checksum_mismatch': { title: 'The backup file is damaged',
    description: 'Its SHA-256 differs from the one recorded when it was made; nothing was restored. Use another backup.' },
  'backup.corrupt': { title: 'The backup file does not authenticate',
    description: 'A frame fails AES-GCM authentication, frames are out of order or missing, or the file is truncated; nothing was restored.' },
  'backup.wrong_key': { title: 'The backup was made under another root key',
    description: 'The configured root key (TRESOR_KEY_FILE or passphrase) does not unwrap the backup\'s key; restore the key file that was in use when it was made.' },
  'backup.newer_schema': { title: 'The backup is from a newer Tresor',
    description: 'Its schema version is higher than the migrations this Tresor knows; restore it with that version or newer.' },
  'backup.target_not_empty': { title: 'The restore target is not empty',
    description: 'A restore writes a new data dir; it never overwrites a store, running or not. Name a new or empty directory with --to.' },
  'backup.production_into_non_production': { title: 'A production backup is not restored outside production',
    description: 'The backup was made by a production deployment and TRESOR_ENVIRONMENT here is staging or test; nothing was restored. Copy tenants pseudonymised with `tresor tenant clone --pseudonymize`.' },
  'backup.pgbackrest_failed': { title: 'pgBackRest failed',
    description: 'The pgbackrest command Tresor ran for a PostgreSQL backup exited with an error; its output is in the detail.' },
  'clone.not_pseudonymized': { title: 'A tenant is cloned only pseudonymised',
    description: '`tresor tenant clone` needs --pseudonymize: production data never reaches another deployment as it is.' },
  'clone.target_production': { title: 'The clone target is a production deployment',
    description: 'The target store declares TRESOR_ENVIRONMENT production; clone into a staging or test deployment.' },
  'clone.target_undeclared': { title: 'The clone target declares no environment',
    description: 'No Tresor has opened the target store yet: run `TRESOR_ENVIRONMENT=test tresor migrate` against it (or start it) first.' },
  'clone.target_not_empty': { title: 'The clone target already holds the tenant',
    description: 'The target store has a tenant with this id; nothing was copied. Clone into a store without it.' },
  'clone.tenant_not_found': { title: 'No such tenant to clone',
    description: 'This store holds no tenant with the id given to --tenant.' },
  'crypto.unwrap_failed': { title: 'A data key could not be unwrapped',
    description: 'Wrong root key, wrong context or corrupted key data. Requests that meet it answer internal.error.' },
  'crypto.decrypt_failed': { title: 'A value could not be decrypted',
    description: 'Wrong key, wrong context or corrupted data. Requests that meet it answer internal.error.' },
} as const satisfies Record<string, Entry>;

export type ErrorCode = keyof typeof errorCatalogue;
export type SubCode = keyof typeof subCodeCatalogue;
export type StartupCode = keyof typeof startupCatalogue;

/** What GET /problems/{code} answers; status is null for start-up codes (never an HTTP answer). */
export function describeCode(code: string): { code: string; status: number | null; title: string; description: string } | undefined {
  if (Object.hasOwn(errorCatalogue, code)) {
    const e = errorCatalogue[code as ErrorCode];
    return { code, status: e.status, title: e.title, description: e.description };
  }
  if (Object.hasOwn(subCodeCatalogue, code)) {
    const e = subCodeCatalogue[code as SubCode];
    const first = e.in[0] as ErrorCode | 'import';
    const parent = first === 'import' ? 200 : errorCatalogue[first].status;
    return { code, status: parent, title: e.title, description: e.description };
  }
  if (Object.hasOwn(startupCatalogue, code)) return { code, status: null, ...startupCatalogue[code as StartupCode] };
  return undefined;
}

/** The `type` URI of a problem: relative (RFC 9457 §3.1.1), served by GET /problems/{code}. */
export const problemType = (code: string) => `/problems/${code}`;

/** At most this many entries in `problems`; `problemsTotal` carries the full count. */
export const MAX_PROBLEMS = 100;

export interface SubProblem { path?: string; field?: string; code: SubCode | ErrorCode; detail: string }

export interface ProblemExtras {
  /** Machine-readable details (field names and rule codes, never values). */
  problems?: SubProblem[];
  /** How many problems there were in all, when `problems` was capped. */
  problemsTotal?: number;
  retryAfterSeconds?: number;
}

export class RequestError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  readonly extras: ProblemExtras;

  constructor(code: ErrorCode, detail?: string, extras: ProblemExtras = {}) {
    const entry = errorCatalogue[code];
    super(detail ?? entry.title);
    this.code = code;
    this.status = entry.status;
    this.title = entry.title;
    this.extras = extras;
  }
}

/** A RequestError listing sub-problems: the detail joins the first few, `problems` is capped. */
export function withProblems(code: ErrorCode, problems: SubProblem[]): RequestError {
  const shown = problems.slice(0, MAX_PROBLEMS);
  const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
  const detail = problems.slice(0, 5).map((p) => p.detail).join('; ') + more;
  return new RequestError(code, detail || undefined, { problems: shown, problemsTotal: problems.length });
}

export function assertThat(condition: unknown, error: RequestError | (() => RequestError)): asserts condition {
  if (!condition) throw typeof error === 'function' ? error() : error;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  requestId: string;
  problems?: SubProblem[];
  problemsTotal?: number;
}

export function toProblem(error: RequestError, requestId: string): Problem {
  const problem: Problem = {
    type: problemType(error.code),
    title: error.title,
    status: error.status,
    code: error.code,
    detail: error.message,
    requestId,
  };
  if (error.extras.problems) {
    problem.problems = error.extras.problems.slice(0, MAX_PROBLEMS);
    problem.problemsTotal = error.extras.problemsTotal ?? error.extras.problems.length;
  }
  return problem;
}
