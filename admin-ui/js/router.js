// Hash router: '#/accounts/42?x=1' -> the view registered for '/accounts/:id'.
//
// Only hashes starting with '#/' are routes, so in-page anchors keep working.

const routes = [];
let notFound = null;
let guard = null;
let current = null;     // cleanup function of the view on screen

/** pattern: '/accounts/:id'; roles: array of roles allowed, or null for public. */
export function route(pattern, opts) {
    const names = [];
    const re = new RegExp('^' + pattern.replace(/:([a-z_]+)/g, (_, n) => {
        names.push(n);
        return '([^/]+)';
    }) + '$');
    routes.push({pattern, re, names, ...opts});
}

export function setNotFound(fn) {
    notFound = fn;
}

/** guard(routeSpec) -> null to proceed, or a path to go to instead. */
export function setGuard(fn) {
    guard = fn;
}

export function go(path) {
    const target = `#${path}`;
    if (location.hash === target) {
        render();
    } else {
        location.hash = target;
    }
}

export function currentPath() {
    return parse().path;
}

function parse() {
    const raw = location.hash.startsWith('#/') ? location.hash.slice(1) : '/';
    const q = raw.indexOf('?');
    const path = q >= 0 ? raw.slice(0, q) : raw;
    const query = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : '');
    return {path, query};
}

export function match(path) {
    for (const r of routes) {
        const m = r.re.exec(path);
        if (m) {
            const params = {};
            r.names.forEach((n, i) => {
                params[n] = decodeURIComponent(m[i + 1]);
            });
            return {route: r, params};
        }
    }
    return null;
}

export async function render() {
    const {path, query} = parse();
    const m = match(path);
    if (guard) {
        const redirect = guard(m ? m.route : null, path);
        if (redirect && redirect !== path) {
            go(redirect);
            return;
        }
    }
    if (typeof current === 'function') {
        try {
            current();
        } catch (e) {
            console.error(e);
        }
    }
    current = null;
    const main = document.getElementById('main');
    main.replaceChildren();
    main.setAttribute('aria-busy', 'true');
    document.dispatchEvent(new CustomEvent('esign:route', {detail: {path, route: m && m.route}}));
    try {
        if (m) {
            document.title = `${m.route.title} · esign admin`;
            current = await m.route.view(main, m.params, query);
        } else if (notFound) {
            notFound(main, path);
        }
    } finally {
        main.removeAttribute('aria-busy');
    }
    // move focus to the new view's heading so screen readers announce it
    const heading = main.querySelector('h1');
    if (heading && !main.contains(document.activeElement)) {
        heading.setAttribute('tabindex', '-1');
        heading.focus({preventScroll: true});
    }
}

export function start() {
    window.addEventListener('hashchange', render);
    return render();
}
