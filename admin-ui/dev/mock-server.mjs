#!/usr/bin/env node
// Development-only fake of the esign HTTP API, serving admin-ui/ at /admin/.
//
// NOT a test and not shipped: it lets the admin page and tests/e2e.mjs run
// without the nginx module. It follows /work/shared/spec/api.md plus the
// proposals in API-NEEDS.md; MOCK_STRICT=1 drops every proposed field
// (server_time, idle_timeout, csrf_token on GET /session, licence content)
// to check that the page tolerates their absence.
//
//   node dev/mock-server.mjs [--port 8443] [--https]
//
// Env: ESIGN_IDLE_SECONDS (default 1800), ESIGN_OPERATOR_USER/PASS,
// ESIGN_ADMIN_USER/PASS, ESIGN_XSS_NAME, MOCK_STRICT, MOCK_STEPUP_ACCOUNTS.

import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import {execFileSync} from 'node:child_process';
import {fileURLToPath} from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const TYPES = {'.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
    '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
    '.png': 'image/png', '.svg': 'image/svg+xml'};

export const DEFAULTS = {
    ESIGN_OPERATOR_USER: 'operator',
    ESIGN_OPERATOR_PASS: 'Operator-Pass-2024',
    ESIGN_ADMIN_USER: 'xssbank_admin',
    ESIGN_ADMIN_PASS: 'Bank-Admin-2024',
    ESIGN_XSS_NAME: '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">Bank of Tests',
};

// ---------------------------------------------------------------- helpers

const now = () => Date.now();
const iso = (ms) => new Date(ms).toISOString();
const rid = (n = 12) => crypto.randomBytes(n).toString('hex');
const sm3ish = (buf) => crypto.createHash('sha256').update(buf).digest('hex'); // stand-in

function crc32(buf) {
    let c;
    let crc = 0xffffffff;
    for (let n = 0; n < buf.length; n++) {
        c = (crc ^ buf[n]) & 0xff;
        for (let k = 0; k < 8; k++) {
            c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
        }
        crc = (crc >>> 8) ^ c;
    }
    return (crc ^ 0xffffffff) >>> 0;
}

/** A small RGB PNG that looks vaguely like a licence with a red seal. */
function licencePng(w = 360, hgt = 240) {
    const raw = Buffer.alloc((w * 3 + 1) * hgt);
    for (let y = 0; y < hgt; y++) {
        raw[y * (w * 3 + 1)] = 0;
        for (let x = 0; x < w; x++) {
            let r = 250;
            let g = 246;
            let b = 232;
            if (x < 8 || x >= w - 8 || y < 8 || y >= hgt - 8) {
                [r, g, b] = [176, 141, 60];
            } else if (y % 22 === 0 && x > 30 && x < w - 120) {
                [r, g, b] = [120, 120, 120];
            }
            const dx = x - (w - 70);
            const dy = y - (hgt - 70);
            const d = Math.sqrt(dx * dx + dy * dy);
            if (d < 40 && d > 33) {
                [r, g, b] = [200, 30, 30];
            }
            const o = y * (w * 3 + 1) + 1 + x * 3;
            raw[o] = r;
            raw[o + 1] = g;
            raw[o + 2] = b;
        }
    }
    const chunk = (type, data) => {
        const len = Buffer.alloc(4);
        len.writeUInt32BE(data.length);
        const td = Buffer.concat([Buffer.from(type), data]);
        const crc = Buffer.alloc(4);
        crc.writeUInt32BE(crc32(td));
        return Buffer.concat([len, td, crc]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(w, 0);
    ihdr.writeUInt32BE(hgt, 4);
    ihdr[8] = 8;
    ihdr[9] = 2;
    return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
        chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n'
    + '2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n'
    + '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 200]>>endobj\n'
    + 'trailer<</Root 1 0 R>>\n%%EOF\n');

const COMMON = new Set(['password', 'password1', 'password123', 'qwerty123', 'abc123456', 'admin1234']);
function weak(pw, username) {
    return !(typeof pw === 'string' && /[A-Z]/.test(pw) && /[a-z]/.test(pw) && /[0-9]/.test(pw)
        && pw.length > 8 && !(username && pw.toLowerCase().includes(String(username).toLowerCase()))
        && !COMMON.has(pw.toLowerCase()));
}

function maskMobile(m) {
    return m ? `${String(m).slice(0, 3)}****${String(m).slice(-4)}` : m;
}

function maskEmail(e) {
    if (!e || !e.includes('@')) {
        return e;
    }
    const [u, d] = e.split('@');
    return `${u.slice(0, 1)}***@${d}`;
}

// ---------------------------------------------------------------- state

function seed(env) {
    const t0 = now();
    const st = {
        accounts: new Map(), institutions: new Map(), sessions: new Map(), messages: [],
        audit: [], contracts: [], outbox: [], verifications: new Map(),
    };
    const op = {id: `acc-${rid(6)}`, username: env.ESIGN_OPERATOR_USER, password: env.ESIGN_OPERATOR_PASS,
        role: 'operator', tier: null, department: 'Platform operations', permissions: [],
        institution_id: null, real_name: 'Olivia Operator', created_at: iso(t0 - 9e8)};
    st.accounts.set(op.id, op);
    const png = licencePng();
    const mkInst = (name, uscc, status, admin, licence, extra = {}) => {
        const inst = {id: `inst-${rid(8)}`, name, uscc, status, created_at: iso(t0 - Math.random() * 9e8),
            registration_ip: '203.0.113.*', licence, ...extra};
        st.institutions.set(inst.id, inst);
        const a = {id: `acc-${rid(6)}`, role: 'institution_admin', tier: 'top_admin', department: 'Head office',
            permissions: ['initiate', 'view', 'confirm', 'download', 'evidence'], institution_id: inst.id,
            id_type: 'resident_id', id_number_masked: '1101**********123X', created_at: inst.created_at,
            ...admin};
        st.accounts.set(a.id, a);
        inst.admin_id = a.id;
        return inst;
    };
    mkInst(env.ESIGN_XSS_NAME, '91350100M000100Y43', 'pending',
        {username: env.ESIGN_ADMIN_USER, password: env.ESIGN_ADMIN_PASS, real_name: 'Alice <b>Admin</b>',
            mobile: '13800138000', email: 'alice@bank.example'},
        {filename: 'licence.png', media_type: 'image/png', size: png.length, sm3: sm3ish(png),
            content_b64: png.toString('base64')});
    mkInst('Harbour Trust Co., Ltd.', '91310000MA1FL4KQ0B', 'pending',
        {username: 'harbour_admin', password: 'Harbour-Admin-1', real_name: 'Henry Harbour',
            mobile: '13900139000', email: 'henry@harbour.example'},
        {filename: 'licence.pdf', media_type: 'application/pdf', size: PDF.length, sm3: sm3ish(PDF),
            content_b64: PDF.toString('base64')});
    mkInst('Eastern Securities Co., Ltd.', '91440300MA5F00000X', 'active',
        {username: 'eastern_admin', password: 'Eastern-Admin-1', real_name: 'Erin East',
            mobile: '13700137000', email: 'erin@eastern.example'}, null);
    mkInst('Northern Fund Management Co.', '91110000MA00000001', 'deregistering',
        {username: 'northern_admin', password: 'Northern-Admin-1', real_name: 'Noah North',
            mobile: '13600136000', email: 'noah@northern.example'}, null,
        {deregistration: {reason: 'Merged into Eastern Securities', requested_at: iso(t0 - 3600e3)}});
    mkInst('Westlake Insurance Co.', '91330100MA00000002', 'rejected',
        {username: 'westlake_admin', password: 'Westlake-Admin-1', real_name: 'Wendy West',
            mobile: '13500135000', email: 'wendy@westlake.example'}, null,
        {reject_reason: 'Licence copy unreadable'});
    const err = ['SMTP 550 mailbox unavailable', 'SMS gateway timeout after 10 s', 'SMTP 421 try again later'];
    for (let i = 0; i < 4; i++) {
        st.outbox.push({id: `ob-${rid(5)}`, channel: i % 2 ? 'sms' : 'email',
            to_masked: i % 2 ? '138****8000' : 'a***@bank.example', attempts: 5 + i,
            last_error: err[i % 3], status: 'failed', next_attempt_at: null});
    }
    st.outbox.push({id: `ob-${rid(5)}`, channel: 'sms', to_masked: '139****9000', attempts: 2,
        last_error: 'SMS gateway timeout after 10 s', status: 'pending', next_attempt_at: iso(t0 + 60e3)});
    st.shards = [0, 1, 2].map((s) => ({shard: `s${s}`, size: 120 + s * 37,
        root: rid(32), checkpoint: {size: 120 + s * 37, timestamp: iso(t0 - s * 60e3),
            note: `esign.example/s${s}\n${120 + s * 37}\n${Buffer.from(rid(32), 'hex').toString('base64')}\n\n— esign.example ${rid(8)}\n`},
        self_check: {ok: s !== 2 || true, checked_at: iso(t0 - 30e3)}}));
    return st;
}

function seedInstitutionData(st, inst) {
    // contracts, audit and a locked account, once an institution is approved
    const t0 = now();
    const other = [...st.institutions.values()].find((i) => i.status === 'active' && i.id !== inst.id);
    const titles = [['Syndicated loan agreement', 'signing'], ['Custody agreement 2024', 'completed'],
        ['Bond underwriting mandate', 'rejected'], ['Fund distribution agreement', 'signing']];
    titles.forEach(([title, status], i) => {
        st.contracts.push({id: `ct-${rid(10)}`, title, number: `HT-2024-${String(101 + i)}`, version: '1.0',
            status, department: i % 2 ? 'Head office' : 'Corporate banking',
            document_sm3: rid(32), created_at: iso(t0 - (i + 1) * 86400e3),
            initiator: {institution_id: i % 2 ? inst.id : other.id, name: i % 2 ? inst.name : other.name},
            participants: [
                {institution_id: inst.id, name: inst.name, status: status === 'completed' ? 'confirmed' : status === 'rejected' ? 'rejected' : 'pending', at: null},
                {institution_id: other.id, name: other.name, status: 'confirmed', at: iso(t0 - i * 3600e3)}],
            read_count: 0});
    });
    const locked = {id: `acc-${rid(6)}`, role: 'account', username: 'locked.clerk', password: 'Locked-Clerk-1',
        institution_id: inst.id, tier: 'business_admin', department: 'Corporate banking',
        permissions: ['view', 'confirm'], real_name: 'Lee Locked', mobile: '13312345678',
        email: 'lee@bank.example', disabled: false, locked: true, created_at: iso(t0 - 86400e3)};
    st.accounts.set(locked.id, locked);
}

// ---------------------------------------------------------------- server

export async function startMock(opts = {}) {
    const env = {...DEFAULTS, ...Object.fromEntries(Object.entries(process.env)
        .filter(([k]) => k.startsWith('ESIGN_') || k.startsWith('MOCK_'))), ...(opts.env || {})};
    const idleMs = Number(env.ESIGN_IDLE_SECONDS || 1800) * 1000;
    const strict = env.MOCK_STRICT === '1';
    const stepupAccounts = env.MOCK_STEPUP_ACCOUNTS === '1';
    const st = seed(env);

    function audit(sess, action, details, result = 'ok') {
        const a = sess ? st.accounts.get(sess.accountId) : null;
        st.audit.unshift({id: `au-${rid(6)}`, institution_id: a ? a.institution_id : null, at: iso(now()),
            account_username: a ? a.username : null, action, result, ip_masked: '127.0.0.*', details});
    }

    function message(accountId, subject, body, extra = {}) {
        st.messages.push({id: `msg-${rid(6)}`, account_id: accountId, subject, body,
            created_at: iso(now()), read: false, ...extra});
    }

    function publicAccount(a) {
        return {id: a.id, username: a.username, institution_id: a.institution_id, role: a.role,
            tier: a.tier, department: a.department, permissions: a.permissions};
    }

    function listOf(items, q) {
        const limit = Math.min(Number(q.get('limit') || 50), 500);
        const off = Number(q.get('cursor') || 0);
        const page = items.slice(off, off + limit);
        return {items: page, next_cursor: off + limit < items.length ? String(off + limit) : null};
    }

    function instSummary(i) {
        const a = st.accounts.get(i.admin_id) || {};
        return {id: i.id, name: i.name, uscc: i.uscc, status: i.status, created_at: i.created_at,
            admin: {username: a.username, real_name: a.real_name}};
    }

    async function handleApi(req, res, p, q, body) {
        const send = (status, obj, headers = {}) => {
            const data = obj === null ? '' : JSON.stringify(obj);
            res.writeHead(status, {'Content-Type': 'application/json; charset=utf-8',
                'Cache-Control': 'no-store', ...headers});
            res.end(data);
        };
        const fail = (status, code, message, headers) => send(status, {error: {code, message}}, headers);
        const m = req.method;
        const cookies = Object.fromEntries((req.headers.cookie || '').split(/;\s*/).filter(Boolean)
            .map((c) => [c.slice(0, c.indexOf('=')), c.slice(c.indexOf('=') + 1)]));
        const sid = cookies.esign_sid;
        let sess = sid ? st.sessions.get(sid) : null;
        let expired = false;
        if (sess && sess.expires <= now()) {
            st.sessions.delete(sid);
            sess = null;
            expired = true;
        }
        const background = req.headers['x-esign-background'] === '1' || p === '/messages/count';
        if (sess && !background) {
            sess.expires = now() + idleMs;
        }
        const acct = sess ? st.accounts.get(sess.accountId) : null;
        const needSession = () => {
            if (!sess) {
                fail(401, expired ? 'session_expired' : 'unauthenticated',
                    expired ? 'The session expired.' : 'Please sign in.');
                return false;
            }
            if (m !== 'GET' && req.headers['x-csrf-token'] !== sess.csrf) {
                fail(403, 'csrf', 'Missing or wrong CSRF token.');
                return false;
            }
            return true;
        };
        const needRole = (...roles) => {
            if (!needSession()) {
                return false;
            }
            if (!roles.includes(acct.role)) {
                fail(403, 'forbidden', 'Not allowed.');
                return false;
            }
            return true;
        };
        const needVerification = () => {
            const t = body && body.verification_token;
            const v = t ? st.verifications.get(t) : null;
            if (!v || v.sid !== sid || v.expires < now()) {
                fail(403, 'verification_required', 'This action needs a fresh identity verification.');
                return false;
            }
            st.verifications.delete(t);
            return true;
        };
        let mm;

        if (p === '/health' && m === 'GET') {
            return send(200, {status: 'ok', version: 'mock', site: 'mock'});
        }
        if (p === '/session') {
            if (m === 'POST') {
                const a = [...st.accounts.values()].find((x) => x.username === (body && body.username));
                if (!a || a.password !== body.password || a.disabled || a.locked) {
                    audit(null, 'login_failed', {username: body && body.username}, 'fail');
                    return fail(401, 'invalid_credentials', 'Wrong username or password.');
                }
                if (a.institution_id) {
                    const inst = st.institutions.get(a.institution_id);
                    if (inst.status !== 'active' && inst.status !== 'deregistering') {
                        return fail(403, 'institution_inactive', 'The institution is not active.');
                    }
                }
                const nsid = rid(24);
                const csrf = rid(16);
                st.sessions.set(nsid, {accountId: a.id, csrf, expires: now() + idleMs});
                a.last_login_at = iso(now());
                audit({accountId: a.id}, 'login', null);
                return send(200, {account: publicAccount(a), csrf_token: csrf}, {
                    'Set-Cookie': `esign_sid=${nsid}; Path=/; HttpOnly; SameSite=Strict${opts.https ? '; Secure' : ''}`});
            }
            if (m === 'GET') {
                if (!needSession()) {
                    return;
                }
                const r = {account: publicAccount(acct), idle_expires_at: iso(sess.expires)};
                if (!strict) {
                    Object.assign(r, {server_time: iso(now()), idle_timeout: idleMs / 1000, csrf_token: sess.csrf});
                }
                return send(200, r);
            }
            if (m === 'DELETE') {
                if (!needSession()) {
                    return;
                }
                audit(sess, 'logout', null);
                st.sessions.delete(sid);
                return send(204, null, {'Set-Cookie': 'esign_sid=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict'});
            }
        }
        if (p === '/session/verify' && m === 'POST') {
            if (!needSession()) {
                return;
            }
            const ok = body.method === 'password' ? body.password === acct.password
                : body.method === 'totp' ? body.code === '123456' : false;
            audit(sess, 'verify', {method: body.method}, ok ? 'ok' : 'fail');
            if (!ok) {
                return fail(401, 'invalid_credentials', 'Verification failed.');
            }
            const t = rid(16);
            st.verifications.set(t, {sid, expires: now() + 300e3});
            return send(200, {verification_token: t, method: body.method, expires_at: iso(now() + 300e3)});
        }
        if (p === '/institutions' && m === 'POST') {
            const b = body || {};
            if (!b.name || !b.uscc || !b.licence || !b.admin || !b.admin.username) {
                return fail(400, 'invalid_request', 'Missing fields.');
            }
            if (!/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(b.uscc)) {
                return fail(400, 'invalid_uscc', 'The USCC is not valid.');
            }
            if (weak(b.admin.password, b.admin.username)) {
                return fail(400, 'weak_password', 'The password is too weak.');
            }
            if ([...st.institutions.values()].some((i) => i.uscc === b.uscc)
                || [...st.accounts.values()].some((a) => a.username === b.admin.username)) {
                return fail(409, 'conflict', 'USCC or username exists.');
            }
            const bytes = Buffer.from(b.licence.content_b64 || '', 'base64');
            const inst = {id: `inst-${rid(8)}`, name: b.name, uscc: b.uscc, status: 'pending', created_at: iso(now()),
                registration_ip: '127.0.0.*', licence: {filename: b.licence.filename, media_type: b.licence.media_type,
                    size: bytes.length, sm3: sm3ish(bytes), content_b64: b.licence.content_b64}};
            const a = {id: `acc-${rid(6)}`, role: 'institution_admin', tier: 'top_admin', department: 'Head office',
                permissions: ['initiate', 'view', 'confirm', 'download', 'evidence'], institution_id: inst.id,
                username: b.admin.username, password: b.admin.password, real_name: b.admin.real_name,
                mobile: b.admin.mobile, email: b.admin.email, id_type: b.admin.id_type,
                id_number_masked: `${String(b.admin.id_number || '').slice(0, 4)}**********`, created_at: inst.created_at};
            st.institutions.set(inst.id, inst);
            st.accounts.set(a.id, a);
            inst.admin_id = a.id;
            return send(201, {id: inst.id, status: 'pending'});
        }

        // ---- operators
        if (p === '/admin/institutions' && m === 'GET') {
            if (!needRole('operator')) {
                return;
            }
            const s = q.get('status');
            const items = [...st.institutions.values()].filter((i) => !s || i.status === s).map(instSummary);
            return send(200, listOf(items, q));
        }
        if ((mm = /^\/admin\/institutions\/([^/]+)$/.exec(p)) && m === 'GET') {
            if (!needRole('operator')) {
                return;
            }
            const i = st.institutions.get(decodeURIComponent(mm[1]));
            if (!i) {
                return fail(404, 'not_found', 'No such institution.');
            }
            const a = st.accounts.get(i.admin_id) || {};
            const lic = i.licence ? {...i.licence} : null;
            if (lic && strict) {
                delete lic.content_b64;
            }
            return send(200, {...instSummary(i), registration_ip: i.registration_ip, licence: lic,
                reject_reason: i.reject_reason, deregistration: i.deregistration,
                admin: {username: a.username, real_name: a.real_name, id_type: a.id_type,
                    id_number: a.id_number_masked, mobile: maskMobile(a.mobile), email: maskEmail(a.email)}});
        }
        if ((mm = /^\/admin\/institutions\/([^/]+)\/(approve|reject|deregistration\/approve|deregistration\/reject)$/.exec(p))
            && m === 'POST') {
            if (!needRole('operator')) {
                return;
            }
            const i = st.institutions.get(decodeURIComponent(mm[1]));
            if (!i) {
                return fail(404, 'not_found', 'No such institution.');
            }
            const act = mm[2];
            const want = act.startsWith('deregistration') ? 'deregistering' : 'pending';
            if (i.status !== want) {
                return fail(409, 'conflict', `The institution is ${i.status}.`);
            }
            if (act.endsWith('reject') && !(body && typeof body.reason === 'string' && body.reason.trim())) {
                return fail(400, 'invalid_request', 'A reason is required.');
            }
            if (act === 'approve') {
                i.status = 'active';
                i.certificate_pem = `-----BEGIN CERTIFICATE-----\n${crypto.randomBytes(180).toString('base64')
                    .replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
                seedInstitutionData(st, i);
                message(i.admin_id, 'Registration approved', 'Your institution is active. Welcome to esign.');
            } else if (act === 'reject') {
                i.status = 'rejected';
                i.reject_reason = body.reason;
            } else if (act === 'deregistration/approve') {
                if (st.contracts.some((c) => c.status === 'signing'
                    && (c.initiator.institution_id === i.id || c.participants.some((x) => x.institution_id === i.id)))) {
                    return fail(409, 'conflict', 'A signing of this institution is in progress.');
                }
                i.status = 'deregistered';
            } else {
                i.status = 'active';
                i.deregistration = {...i.deregistration, rejected_reason: body.reason};
            }
            audit(sess, `institution.${act.replace('/', '_')}`, {institution: i.id});
            return send(200, {id: i.id, status: i.status});
        }
        if (p === '/admin/outbox' && m === 'GET') {
            if (!needRole('operator')) {
                return;
            }
            const s = q.get('status');
            return send(200, listOf(st.outbox.filter((o) => !s || o.status === s), q));
        }
        if (p === '/ledger/shards' && m === 'GET') {
            if (!needSession()) {
                return;
            }
            return send(200, {items: st.shards});
        }

        // ---- institution administration
        if (p === '/institution' && m === 'GET') {
            if (!needRole('institution_admin', 'account')) {
                return;
            }
            const i = st.institutions.get(acct.institution_id);
            return send(200, {id: i.id, name: i.name, uscc: i.uscc, status: i.status, certificate_pem: i.certificate_pem});
        }
        if (p === '/institution/deregistration' && m === 'POST') {
            if (!needRole('institution_admin')) {
                return;
            }
            const i = st.institutions.get(acct.institution_id);
            if (i.status !== 'active') {
                return fail(409, 'conflict', 'Not active.');
            }
            i.status = 'deregistering';
            i.deregistration = {reason: body.reason, requested_at: iso(now())};
            audit(sess, 'institution.deregistration', null);
            return send(202, {status: i.status});
        }
        const accountView = (a) => ({id: a.id, username: a.username, real_name: a.real_name, mobile: maskMobile(a.mobile),
            email: maskEmail(a.email), department: a.department, tier: a.tier, permissions: a.permissions,
            role: a.role, disabled: Boolean(a.disabled), locked: Boolean(a.locked), created_at: a.created_at,
            last_login_at: a.last_login_at || null});
        if (p === '/accounts' && m === 'GET') {
            if (!needRole('institution_admin')) {
                return;
            }
            return send(200, listOf([...st.accounts.values()]
                .filter((a) => a.institution_id === acct.institution_id).map(accountView), q));
        }
        if (p === '/accounts' && m === 'POST') {
            if (!needRole('institution_admin')) {
                return;
            }
            if (stepupAccounts && !needVerification()) {
                return;
            }
            const b = body || {};
            const TIERS = ['top_admin', 'business_admin', 'business_operator'];
            const PERMS = ['initiate', 'view', 'confirm', 'download', 'evidence'];
            if (!b.username || !TIERS.includes(b.tier) || !Array.isArray(b.permissions)
                || b.permissions.some((x) => !PERMS.includes(x))) {
                return fail(400, 'invalid_request', 'Invalid account.');
            }
            if (weak(b.password, b.username)) {
                return fail(400, 'weak_password', 'The password is too weak.');
            }
            if ([...st.accounts.values()].some((a) => a.username === b.username)) {
                return fail(409, 'conflict', 'Username exists.');
            }
            const a = {id: `acc-${rid(6)}`, role: 'account', institution_id: acct.institution_id,
                username: b.username, password: b.password, real_name: b.real_name, mobile: b.mobile,
                email: b.email, department: b.department, tier: b.tier, permissions: b.permissions,
                disabled: false, locked: false, created_at: iso(now())};
            st.accounts.set(a.id, a);
            message(a.id, 'Welcome to esign', `Your account ${a.username} was created by ${acct.username}.`);
            audit(sess, 'account.create', {account: a.username});
            return send(201, accountView(a));
        }
        if ((mm = /^\/accounts\/([^/]+)$/.exec(p))) {
            if (!needRole('institution_admin')) {
                return;
            }
            const a = st.accounts.get(decodeURIComponent(mm[1]));
            if (!a || a.institution_id !== acct.institution_id) {
                return fail(404, 'not_found', 'No such account.');
            }
            if (m === 'GET') {
                return send(200, accountView(a));
            }
            if (m === 'PATCH') {
                for (const k of ['department', 'tier', 'permissions', 'disabled', 'locked']) {
                    if (body && k in body) {
                        a[k] = body[k];
                    }
                }
                audit(sess, 'account.update', {account: a.username, fields: Object.keys(body || {})});
                return send(200, accountView(a));
            }
        }
        if (p === '/audit' && m === 'GET') {
            if (!needRole('institution_admin')) {
                return;
            }
            const from = q.get('from') ? Date.parse(q.get('from')) : -Infinity;
            const to = q.get('to') ? Date.parse(q.get('to')) : Infinity;
            const who = q.get('account');
            const what = q.get('action');
            const items = st.audit.filter((r) => r.institution_id === acct.institution_id
                && Date.parse(r.at) >= from && Date.parse(r.at) <= to
                && (!who || r.account_username === who) && (!what || r.action === what));
            return send(200, listOf(items, q));
        }

        // ---- contracts
        const visible = (c) => {
            const inst = acct.institution_id;
            const party = c.initiator.institution_id === inst || c.participants.some((x) => x.institution_id === inst);
            if (!party) {
                return false;
            }
            return acct.role === 'institution_admin' || acct.tier === 'top_admin' || c.department === acct.department;
        };
        const maskC = (c) => (acct.tier === 'business_operator' && acct.role === 'account'
            ? {...c, number: `${c.number.slice(0, 3)}****`, title: `${c.title.slice(0, 6)}…`, document_sm3: undefined} : c);
        if (p === '/contracts' && m === 'GET') {
            if (!needRole('institution_admin', 'account')) {
                return;
            }
            if (acct.role === 'account' && !acct.permissions.includes('view')) {
                return fail(403, 'forbidden', 'The view permission is needed.');
            }
            const box = q.get('box') || 'all';
            const s = q.get('status');
            const items = st.contracts.filter(visible).filter((c) => (!s || c.status === s)
                && (box === 'all' || (box === 'initiated') === (c.initiator.institution_id === acct.institution_id)));
            return send(200, listOf(items.map(maskC), q));
        }
        if ((mm = /^\/contracts\/([^/]+)(?:\/(confirm|reject|revoke))?$/.exec(p))) {
            if (!needRole('institution_admin', 'account')) {
                return;
            }
            const c = st.contracts.find((x) => x.id === decodeURIComponent(mm[1]));
            if (!c || !visible(c)) {
                return fail(404, 'not_found', 'No such contract.');
            }
            if (!mm[2] && m === 'GET') {
                return send(200, maskC(c));
            }
            if (mm[2] && m === 'POST') {
                if (!needVerification()) {
                    return;
                }
                if (c.status !== 'signing') {
                    return fail(409, 'conflict', 'Not signing.');
                }
                const mine = c.participants.find((x) => x.institution_id === acct.institution_id);
                if (mm[2] === 'confirm') {
                    mine.status = 'confirmed';
                    mine.at = iso(now());
                    if (c.participants.every((x) => x.status === 'confirmed')) {
                        c.status = 'completed';
                    }
                } else if (mm[2] === 'reject') {
                    mine.status = 'rejected';
                    c.status = 'rejected';
                } else {
                    c.status = 'revoked';
                }
                audit(sess, `contract.${mm[2]}`, {contract: c.number});
                return send(200, c);
            }
        }

        // ---- messages
        if (p === '/messages' && m === 'GET') {
            if (!needSession()) {
                return;
            }
            const unread = q.get('unread') === '1';
            const items = st.messages.filter((x) => x.account_id === acct.id && (!unread || !x.read))
                .slice().reverse().map(({account_id: _, ...x}) => x);
            return send(200, listOf(items, q));
        }
        if (p === '/messages/count' && m === 'GET') {
            if (!needSession()) {
                return;
            }
            const r = {unread: st.messages.filter((x) => x.account_id === acct.id && !x.read).length};
            if (!strict) {
                r.idle_expires_at = iso(sess.expires);
            }
            return send(200, r);
        }
        if ((mm = /^\/messages\/([^/]+)\/read$/.exec(p)) && m === 'POST') {
            if (!needSession()) {
                return;
            }
            const msg = st.messages.find((x) => x.id === decodeURIComponent(mm[1]) && x.account_id === acct.id);
            if (!msg) {
                return fail(404, 'not_found', 'No such message.');
            }
            msg.read = true;
            return send(204, null);
        }
        return fail(404, 'not_found', 'No such route.');
    }

    function serveStatic(req, res, rel) {
        const clean = path.normalize(rel || 'index.html').replace(/^(\.\.[/\\])+/, '');
        const allowed = clean === 'index.html' || clean === 'app.css' || clean.startsWith(`js${path.sep}`);
        const file = path.join(ROOT, clean);
        if (!allowed || !file.startsWith(ROOT) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
            res.writeHead(404, {'Content-Type': 'text/plain', 'Content-Security-Policy': CSP});
            return res.end('not found');
        }
        res.writeHead(200, {
            'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream',
            'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff',
            'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-cache',
        });
        res.end(fs.readFileSync(file));
    }

    async function handler(req, res) {
        const u = new URL(req.url, 'http://x');
        try {
            if (u.pathname === '/' || u.pathname === '/admin') {
                res.writeHead(302, {Location: '/admin/'});
                return res.end();
            }
            if (u.pathname.startsWith('/admin/')) {
                return serveStatic(req, res, decodeURIComponent(u.pathname.slice('/admin/'.length)));
            }
            if (u.pathname.startsWith('/api/v1/')) {
                let body = null;
                if (req.method !== 'GET' && req.method !== 'HEAD') {
                    const chunks = [];
                    for await (const c of req) {
                        chunks.push(c);
                    }
                    const raw = Buffer.concat(chunks).toString('utf8');
                    if (raw) {
                        try {
                            body = JSON.parse(raw);
                        } catch (e) {
                            res.writeHead(400, {'Content-Type': 'application/json'});
                            return res.end(JSON.stringify({error: {code: 'invalid_json', message: 'Invalid JSON.'}}));
                        }
                    }
                }
                if (opts.log) {
                    console.error(`${req.method} ${u.pathname}${u.search}`);
                }
                return await handleApi(req, res, u.pathname.slice('/api/v1'.length), u.searchParams, body || {});
            }
            res.writeHead(404, {'Content-Type': 'text/plain'});
            res.end('not found');
        } catch (e) {
            console.error(e);
            res.writeHead(500, {'Content-Type': 'application/json'});
            res.end(JSON.stringify({error: {code: 'internal', message: String(e)}}));
        }
    }

    let server;
    if (opts.https) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esign-mock-'));
        execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
            '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], {stdio: 'ignore'});
        server = https.createServer({key: fs.readFileSync(path.join(dir, 'key.pem')),
            cert: fs.readFileSync(path.join(dir, 'cert.pem'))}, handler);
        fs.rmSync(dir, {recursive: true, force: true});
    } else {
        server = http.createServer(handler);
    }
    await new Promise((resolve) => server.listen(opts.port || 0, '127.0.0.1', resolve));
    const url = `${opts.https ? 'https' : 'http'}://127.0.0.1:${server.address().port}`;
    return {url, env, state: st, close: () => new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
    })};
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
    const args = process.argv.slice(2);
    const port = args.includes('--port') ? Number(args[args.indexOf('--port') + 1]) : 8080;
    const mock = await startMock({port, https: args.includes('--https'), log: args.includes('--log')});
    console.log(`esign mock listening on ${mock.url} (admin page: ${mock.url}/admin/)`);
    console.log(`operator: ${mock.env.ESIGN_OPERATOR_USER} / ${mock.env.ESIGN_OPERATOR_PASS}; `
        + `pending admin: ${mock.env.ESIGN_ADMIN_USER} / ${mock.env.ESIGN_ADMIN_PASS}`);
}
