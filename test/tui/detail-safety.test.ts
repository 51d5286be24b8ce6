import { describe, expect, it } from 'vitest';
import { createTheme } from '../../src/tui/theme.js';
import { errorPageLines, type ErrorPage } from '../../src/tui/views/error-detail.js';

// The error page shows what targets and operators wrote (headers, URLs, bodies, tags): none of
// it may drive the terminal Ink draws on.

const ESC = '\u001b]0;pwned\u0007\u009b6n\u001b[2J';

describe('the TUI error page', () => {
  it('shows no control character from a trace, a tag or a message', () => {
    const page: ErrorPage = {
      detail: {
        flowId: 'f',
        flowName: `Flow${ESC}`,
        stepId: 's',
        stepName: 'Sink',
        resolved: false,
        error: { errorId: 'e1', occurredAt: new Date().toISOString(), source: 'application', code: '400', message: `plain ${ESC}`, tags: [`urgent${ESC}`] } as ErrorPage['detail']['error'],
      },
      request: {
        key: 'k',
        request: { method: 'POST', url: `http://h/x?${ESC}`, headers: { 'x-h': ESC }, body: JSON.stringify({ a: ESC }) },
        response: { statusCode: 400, headers: { 'x-r': ESC }, body: `not json ${ESC}` },
      } as ErrorPage['request'],
      history: [],
    };
    const lines = errorPageLines(page, createTheme({ NO_COLOR: '1' }), 120);
    const text = lines.map((l) => l.text).join('\n');
    expect(text).toContain('urgent');
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
  });
});
