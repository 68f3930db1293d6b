// Element builder: the only way this app puts data into the DOM.
//
// Every string child becomes a Text node and every attribute goes through
// setAttribute, so user-supplied text can never turn into markup. There is
// deliberately no innerHTML anywhere in admin-ui/ (tests/e2e.mjs checks).

const BOOL_ATTRS = new Set(['hidden', 'disabled', 'checked', 'required',
    'readonly', 'multiple', 'selected', 'open', 'autofocus']);

/**
 * h('button', {type: 'button', class: 'primary', onclick: fn}, 'Save')
 *
 * attrs: `class`, `for`, `data-*`, `aria-*` and other attributes are set with
 * setAttribute; keys starting with "on" register listeners; `value`,
 * `checked`, `selected` and `disabled` are set as properties as well;
 * null/undefined/false values are skipped. Children may be strings, numbers,
 * nodes, arrays (flattened) or null/false (skipped).
 */
export function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
        for (const [k, v] of Object.entries(attrs)) {
            if (v === null || v === undefined || v === false) {
                continue;
            }
            if (k.startsWith('on') && typeof v === 'function') {
                el.addEventListener(k.slice(2).toLowerCase(), v);
            } else if (k === 'value') {
                el.value = String(v);
            } else if (k === 'style') {
                // strict CSP (style-src 'self'): style attributes are refused
                throw new Error('h(): style attributes are not allowed');
            } else if (BOOL_ATTRS.has(k)) {
                el.setAttribute(k, '');
                if (k in el) {
                    el[k] = true;
                }
            } else {
                el.setAttribute(k, v === true ? '' : String(v));
            }
        }
    }
    append(el, children);
    return el;
}

export function append(el, children) {
    for (const c of children.flat(Infinity)) {
        if (c === null || c === undefined || c === false) {
            continue;
        }
        el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
}

/** Replace all children of el. */
export function replace(el, ...children) {
    el.replaceChildren();
    return append(el, children);
}

let idSeq = 0;
/** A unique element id for label/for and aria-* wiring. */
export function uid(prefix = 'f') {
    idSeq += 1;
    return `${prefix}-${idSeq}`;
}

/** RFC 3339 string to a readable local time; tolerates absence. */
export function fmtTime(s) {
    if (!s) {
        return '—';
    }
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) {
        return String(s);
    }
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} `
        + `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function fmtSize(n) {
    if (typeof n !== 'number') {
        return '—';
    }
    if (n < 1024) {
        return `${n} B`;
    }
    if (n < 1024 * 1024) {
        return `${(n / 1024).toFixed(1)} KiB`;
    }
    return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** snake_case code to a human label: "business_operator" -> "Business operator". */
export function label(code) {
    if (!code) {
        return '—';
    }
    const s = String(code).replace(/_/g, ' ');
    return s.charAt(0).toUpperCase() + s.slice(1);
}

/** A table from column specs [{title, cell(item) -> node|string}]. */
export function table(caption, columns, items, attrs = {}) {
    return h('div', {class: 'table-wrap'},
        h('table', attrs,
            h('caption', {class: 'visually-hidden'}, caption),
            h('thead', null, h('tr', null,
                columns.map((c) => h('th', {scope: 'col'}, c.title)))),
            h('tbody', null, items.map((it) => h('tr', {'data-id': it.id ?? null},
                columns.map((c) => h('td', {'data-label': c.title}, c.cell(it))))))));
}

/** A labelled form field; returns {wrap, input}. */
export function field(labelText, input, hint) {
    const id = input.id || uid('in');
    input.id = id;
    let hintEl = null;
    if (hint) {
        hintEl = hint instanceof Node ? hint : h('p', {class: 'hint'}, hint);
        hintEl.id = hintEl.id || `${id}-hint`;
        input.setAttribute('aria-describedby', hintEl.id);
    }
    const wrap = h('div', {class: 'field'}, h('label', {for: id}, labelText), input, hintEl);
    return {wrap, input};
}

export function emptyState(text) {
    return h('p', {class: 'empty', 'data-testid': 'empty'}, text);
}
