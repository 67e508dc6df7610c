// Forms for the admin and self-service pages: the request body is checked in
// the page with the API's own zod schema (so the page refuses what jmp-api
// would, with the same sentence and the field's label), then sent; a refusal
// from jmp-api is shown as jmp-api words it.
import type { z } from 'zod';
import { ApiError } from '../api.js';
import { field, h, message, select, setMessage, toast } from '../dom.js';

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
export interface FieldSpec {
  /** The body's key (also the control's name). */
  name: string;
  label: string;
  /** text (default), number, password, select, checkbox, textarea. */
  type?: 'text' | 'number' | 'password' | 'select' | 'checkbox' | 'textarea' | 'datetime-local';
  options?: Array<[string, string]>;
  hint?: string;
  value?: string;
  /** Left out of the body when empty. */
  optional?: boolean;
  /** The value is a number (an id from a select). */
  numeric?: boolean;
  /** Lines of a textarea. */
  rows?: number;
  /** Kept as typed, spaces included (a pattern); passwords and secrets always are. */
  raw?: boolean;
}

/** "body.scopeId: expected number" → "Service: expected number", with the label of the field it names. */
export function firstIssue(err: z.ZodError, labels: Record<string, string>): string {
  const issue = err.issues[0]!;
  const key = String(issue.path[0] ?? '');
  return `${labels[key] ?? key}: ${issue.message}`;
}

export function controlValue(spec: FieldSpec, el: Control): unknown {
  if (spec.type === 'checkbox') return (el as HTMLInputElement).checked;
  const v = spec.raw || spec.type === 'password' ? el.value : el.value.trim();
  if (v.trim() === '' && spec.optional) return undefined;
  if (spec.type === 'number' || spec.numeric) return v === '' ? undefined : Number(v);
  if (spec.type === 'datetime-local') return v ? new Date(v).toISOString() : undefined;
  return v;
}

export function makeControl(spec: FieldSpec): Control {
  const base = { name: spec.name, autocomplete: 'off' };
  if (spec.type === 'select') return select(spec.name, spec.options ?? [], spec.value ?? '');
  if (spec.type === 'textarea')
    return h('textarea', { ...base, rows: spec.rows ?? 3, class: 'mono', spellcheck: 'false' }, spec.value ?? '');
  if (spec.type === 'checkbox') return h('input', { ...base, type: 'checkbox', checked: spec.value === 'true' });
  return h('input', {
    ...base,
    type: spec.type === 'password' ? 'password' : spec.type === 'datetime-local' ? 'datetime-local' : 'text',
    inputmode: spec.type === 'number' ? 'numeric' : null,
    value: spec.value ?? '',
    autocomplete: spec.type === 'password' ? 'new-password' : 'off',
  });
}

/**
 * A card with a heading, its fields, a message line and a submit button. Enter
 * in any field submits. `send` gets the checked body; its result sentence is
 * shown as the form's message.
 */
export function apiForm<S extends z.ZodType>(opts: {
  title: string;
  id: string;
  fields: FieldSpec[];
  schema: S;
  submit: string;
  send: (body: z.output<S>) => Promise<string | Node>;
  /** Extra body values not shown as fields. */
  extra?: () => Record<string, unknown>;
  /** Turns the fields' values into the body (e.g. "service:3" into scopeType and scopeId); may throw a sentence. */
  prepare?: (raw: Record<string, unknown>) => Record<string, unknown>;
}): HTMLFormElement {
  const controls = new Map<string, Control>();
  const labels: Record<string, string> = {};
  const rows = opts.fields.map((f) => {
    const c = makeControl(f);
    controls.set(f.name, c);
    labels[f.name] = f.label;
    return field(f.label, c, f.hint);
  });
  const msg = message();
  const out = h('div', { class: 'form-result' });
  const button = h('button', { type: 'submit', class: 'primary' }, opts.submit);
  const form = h(
    'form',
    { class: 'card', novalidate: true, 'aria-labelledby': opts.id },
    h('h2', { id: opts.id }, opts.title),
    h('div', { class: 'row' }, ...rows),
    msg,
    out,
    button,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void (async () => {
      const raw: Record<string, unknown> = { ...opts.extra?.() };
      for (const f of opts.fields) {
        const v = controlValue(f, controls.get(f.name)!);
        if (v !== undefined) raw[f.name] = v;
      }
      let body: Record<string, unknown>;
      try {
        body = opts.prepare ? opts.prepare(raw) : raw;
      } catch (err) {
        setMessage(msg, (err as Error).message); // e.g. text that is not JSON
        return;
      }
      const checked = opts.schema.safeParse(body);
      if (!checked.success) {
        setMessage(msg, firstIssue(checked.error, labels));
        return;
      }
      button.disabled = true;
      try {
        const result = await opts.send(checked.data);
        // A page that redrew itself replaced this form: its sentence goes to the toast line instead.
        if (!form.isConnected && typeof result === 'string') toast(result);
        setMessage(msg, typeof result === 'string' ? result : '', 'ok');
        out.replaceChildren(typeof result === 'string' ? '' : result);
        for (const f of opts.fields)
          if (f.type !== 'select' && f.type !== 'checkbox') controls.get(f.name)!.value = f.value ?? '';
      } catch (err) {
        setMessage(msg, err instanceof ApiError ? err.message : (err as Error).message);
      } finally {
        button.disabled = false;
      }
    })();
  });
  return form;
}

/** A button that runs an API call and reports its sentence (or the API's refusal) in a toast-like line. */
export function actionButton(
  label: string,
  ariaLabel: string,
  run: () => Promise<void>,
  onError: (message: string) => void,
  kind = '',
): HTMLButtonElement {
  const b = h('button', { type: 'button', class: kind, 'aria-label': ariaLabel }, label);
  b.addEventListener('click', () => {
    b.disabled = true;
    run()
      .catch((err: Error) => onError(err.message))
      .finally(() => {
        b.disabled = false;
      });
  });
  return b;
}

/**
 * One value of a row changed in place: a small form (its control labelled for
 * screen readers, Enter submits) whose value is checked with the API's schema
 * and sent; the sentence or the API's refusal goes to `report`.
 */
export function inlineForm<S extends z.ZodType>(opts: {
  spec: FieldSpec;
  /** The control's accessible name ("Expiry of grant #3"). */
  label: string;
  schema: S;
  /** The field's value → the body (default: { [spec.name]: value }). */
  body?: (value: unknown) => Record<string, unknown>;
  submit: string;
  /** The button's accessible name ("Save expiry of grant #3"). */
  submitLabel: string;
  send: (body: z.output<S>) => Promise<string>;
  report: (text: string) => void;
}): HTMLFormElement {
  const control = makeControl(opts.spec);
  control.setAttribute('aria-label', opts.label);
  const button = h('button', { type: 'submit', 'aria-label': opts.submitLabel }, opts.submit);
  const form = h('form', { class: 'inline-edit', novalidate: true }, control, button);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = controlValue(opts.spec, control);
    const raw = opts.body ? opts.body(value) : value === undefined ? {} : { [opts.spec.name]: value };
    const checked = opts.schema.safeParse(raw);
    if (!checked.success) {
      opts.report(firstIssue(checked.error, { [opts.spec.name]: opts.label }));
      return;
    }
    button.disabled = true;
    opts
      .send(checked.data)
      .then(opts.report, (err: Error) => opts.report(err.message))
      .finally(() => {
        button.disabled = false;
      });
  });
  return form;
}

/** A select saved on change (PATCH-like `save`); the list is redrawn, then the sentence (or the API's refusal) reported. */
export function savingSelect(opts: {
  name: string;
  label: string;
  options: Array<[string, string]>;
  value: string;
  save: (value: string) => Promise<string>;
  report: (text: string) => void;
  reload: () => Promise<void>;
}): HTMLSelectElement {
  const s = select(opts.name, opts.options, opts.value);
  s.setAttribute('aria-label', opts.label);
  s.addEventListener('change', () => {
    // The sentence comes once the page shows the outcome (on refusal: the value it still has).
    void opts
      .save(s.value)
      .catch((err: Error) => err.message)
      .then(async (text) => {
        await opts.reload().then(
          () => opts.report(text),
          (err: Error) => opts.report(err.message),
        );
      });
  });
  return s;
}

/** The value of a datetime-local control for an ISO time (local time, minutes). */
export function localDateTime(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
