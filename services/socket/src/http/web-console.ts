// The web console's static files (services/web/dist) in development; in
// production nginx serves them. A missing build gets a page that says how
// to make it instead of a bare 404.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import express, { type Request, type Response, type NextFunction } from 'express';

const NOT_BUILT = `<!doctype html>
<meta charset="utf-8"><title>jmp: console not built</title>
<body style="font-family: sans-serif; margin: 3em">
<h1>The jmp web console is not built</h1>
<p>console not built: run <code>npm run build -w services/web</code>, then reload this page.</p>
</body>
`;

export function webConsole(dir: string): express.Router {
  const root = resolve(dir);
  const index = join(root, 'index.html');
  const router = express.Router();
  router.use(express.static(root, { index: false, fallthrough: true, maxAge: '1h' }));
  // A single-page app: every other GET that wants a page gets index.html.
  router.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.path.startsWith('/socket.io') || !req.accepts('html'))
      return next();
    // Checked per request: the console may be built while jmp-socket runs.
    if (!existsSync(index)) {
      res.status(503).type('html').send(NOT_BUILT);
      return;
    }
    res.set('cache-control', 'no-cache').sendFile(index);
  });
  return router;
}
