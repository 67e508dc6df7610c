// The baseline: a bare express GET that returns constant JSON.
import express from 'express';
const app = express();
app.disable('x-powered-by');
app.get('/baseline', (_req, res) => {
  res.json({ allow: true, reason: 'constant' });
});
app.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
