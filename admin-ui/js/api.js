// JSON client for /api/v1: CSRF header, error documents, clock skew, step-up.
//
// The API base is derived from this module's own URL (…/admin/js/api.js ->
// …/api/v1/), so the page works under any location prefix of the esign
// module without configuration.

export const API_BASE = new URL('../../api/v1/', import.meta.url);

const CSRF_KEY = 'esign.csrf';

export class ApiError extends Error {
    constructor(status, code, message, retryAfter) {
        super(message);
        this.name = 'ApiError';
        this.status = status;
        this.code = code;
        this.retryAfter = retryAfter;
    }
}

const FALLBACK = {
    0: 'The server cannot be reached. Check the connection and try again.',
    400: 'The request was refused as invalid.',
    401: 'Please sign in.',
    403: 'You are not allowed to do this.',
    404: 'Not found.',
    409: 'This is not possible in the current state.',
    413: 'The upload is too large.',
    415: 'This file type is not accepted.',
    429: 'Too many attempts. Please wait and try again.',
    503: 'The service is temporarily unavailable. Please try again shortly.',
};

let csrfToken = sessionStorage.getItem(CSRF_KEY);
let stepUpHandler = null;
const listeners = new Set();

export function setCsrfToken(t) {
    csrfToken = t || null;
    if (csrfToken) {
        sessionStorage.setItem(CSRF_KEY, csrfToken);
    } else {
        sessionStorage.removeItem(CSRF_KEY);
    }
}

export function hasCsrfToken() {
    return Boolean(csrfToken);
}

/** fn() -> Promise<verification_token|null>; called on 403 verification_required. */
export function setStepUpHandler(fn) {
    stepUpHandler = fn;
}

/**
 * Observe every response: fn({path, method, status, background, body,
 * clientSent, clientReceived, serverDate}). Used by the session timer (clock
 * skew, sliding idle deadline) and for 401 handling.
 */
export function onResponse(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
}

function url(path, query) {
    const u = new URL(path.replace(/^\//, ''), API_BASE);
    if (query) {
        for (const [k, v] of Object.entries(query)) {
            if (v !== undefined && v !== null && v !== '') {
                u.searchParams.set(k, String(v));
            }
        }
    }
    return u;
}

/**
 * request('POST', '/admin/institutions/x/approve', {body, query, background})
 *
 * background: a poll that the user did not cause (message count); sent with
 * X-Esign-Background: 1 so the server may leave the idle timer alone, and not
 * counted as activity by the session timer.
 * stepUp: false disables the automatic verification retry.
 * Resolves the parsed JSON (null for 204); rejects with ApiError.
 */
export async function request(method, path, opts = {}) {
    const headers = {Accept: 'application/json'};
    let body;
    if (opts.body !== undefined) {
        headers['Content-Type'] = 'application/json';
        body = JSON.stringify(opts.body);
    }
    if (method !== 'GET' && method !== 'HEAD' && csrfToken) {
        headers['X-CSRF-Token'] = csrfToken;
    }
    if (opts.background) {
        headers['X-Esign-Background'] = '1';
    }
    if (opts.verificationToken) {
        headers['X-Verification-Token'] = opts.verificationToken;
    }
    const clientSent = Date.now();
    let res;
    try {
        res = await fetch(url(path, opts.query), {
            method, headers, body, credentials: 'same-origin', cache: 'no-store',
            redirect: 'error',
        });
    } catch (e) {
        throw new ApiError(0, 'network', FALLBACK[0]);
    }
    const clientReceived = Date.now();
    let data = null;
    const ct = res.headers.get('Content-Type') || '';
    if (res.status !== 204 && ct.includes('json')) {
        try {
            data = await res.json();
        } catch (e) {
            data = null;
        }
    }
    const dateHeader = res.headers.get('Date');
    const info = {
        path, method, status: res.status, background: Boolean(opts.background),
        body: data, clientSent, clientReceived,
        serverDate: dateHeader ? Date.parse(dateHeader) : NaN,
    };
    for (const fn of listeners) {
        try {
            fn(info);
        } catch (e) {
            console.error(e);
        }
    }
    if (res.ok) {
        return data;
    }
    const err = data && data.error ? data.error : {};
    const retryAfter = res.headers.get('Retry-After');
    let message = err.message || FALLBACK[res.status] || `Request failed (HTTP ${res.status}).`;
    if (retryAfter && (res.status === 429 || res.status === 503)) {
        message += ` (retry in ${retryAfter} s)`;
    }
    const apiErr = new ApiError(res.status, err.code || `http_${res.status}`, message, retryAfter);
    if (res.status === 403 && apiErr.code === 'verification_required'
        && stepUpHandler && opts.stepUp !== false && !opts.verificationToken) {
        const token = await stepUpHandler();
        if (!token) {
            throw new ApiError(403, 'verification_cancelled', 'Identity verification was cancelled.');
        }
        const retryBody = opts.body && typeof opts.body === 'object'
            ? {...opts.body, verification_token: token}
            : {verification_token: token};
        return request(method, path, {...opts, body: retryBody, verificationToken: token});
    }
    throw apiErr;
}

export const api = {
    get: (path, query, opts = {}) => request('GET', path, {...opts, query}),
    post: (path, body, opts = {}) => request('POST', path, {...opts, body}),
    patch: (path, body, opts = {}) => request('PATCH', path, {...opts, body}),
    del: (path, opts = {}) => request('DELETE', path, opts),
};
