import { Type } from 'typebox';
import type { App } from './app-types.ts';
import { RequestError, describeCode } from '../errors.ts';
import { access } from './access.ts';
import { errorResponses } from './schemas.ts';

const Description = Type.Object({
  code: Type.String(), status: Type.Union([Type.Integer(), Type.Null()]), title: Type.String(), description: Type.String(),
});

/** A problem's `type` URI resolves here: a short human description of its code. */
export function problemsRoutes(app: App) {
  app.get('/problems/:code', {
    config: { ...access.public, problems: ['problem.not_found'] },
    schema: { operationId: 'getProblemType', summary: 'Describe an error code', tags: ['problems'],
      description: 'Where a problem\'s `type` URI resolves: the code\'s status, title and meaning.', params: Type.Object({ code: Type.String({ maxLength: 100 }) }),
      response: { 200: Description, ...errorResponses } },
  }, async (req) => {
    const found = describeCode(req.params.code);
    if (!found) throw new RequestError('problem.not_found', 'No such error code; see docs/errors.md for the catalogue');
    return found;
  });
}
