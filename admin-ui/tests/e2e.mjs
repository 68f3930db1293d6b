#!/usr/bin/env node
// Browser test driver for the admin page (issue 6). Prints TAP for prove.
//
// Drives /usr/bin/chromium through playwright-core against a running esign
// site: the operator approves a pending registration whose name carries a
// <script> payload, the new institution administrator creates an account,
// that account sees only its tier's views, and the idle-timeout warning and
// expiry work. Screenshots of every main view go to ESIGN_ARTIFACTS.
//
// Env:
//   ESIGN_BASE            https://127.0.0.1:PORT (the location with `esign on`)
//   ESIGN_OPERATOR_USER / ESIGN_OPERATOR_PASS   platform operator
//   ESIGN_ADMIN_USER / ESIGN_ADMIN_PASS         administrator of the pending institution
//   ESIGN_XSS_NAME        that institution's name (contains <script>, sets window.__xss)
//   ESIGN_IDLE_SECONDS    the server's idle timeout (default 8)
//   ESIGN_ARTIFACTS       screenshot directory (default ../t/artifacts from admin-ui/)
//   ESIGN_NEW_USER / ESIGN_NEW_PASS   account to create (default: generated)
//   ESIGN_ADMIN_PATH      path of the page (default /admin/)
//   ESIGN_CHROMIUM        browser binary (default /usr/bin/chromium)
//   ESIGN_MOCK=1          without ESIGN_BASE: start dev/mock-server.mjs (development only)

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const UI = path.resolve(HERE, '..');
const env = process.env;

// ------------------------------------------------------------------ TAP

let n = 0;
let failed = 0;
let page = null;
let artifacts = null;

class Todo extends Error {}
class Skip extends Error {}

function diag(text) {
    for (const line of String(text).split('\n')) {
        console.log(`# ${line}`);
    }
}

/** opts.todo: a reason; a failure is then reported as TODO (depends on a proposal). */
async function test(desc, fn, opts = {}) {
    n += 1;
    const id = n;
    try {
        await fn();
        console.log(`ok ${id} - ${desc}`);
        return true;
    } catch (e) {
        if (e instanceof Skip) {
            console.log(`ok ${id} - ${desc} # SKIP ${e.message}`);
            return true;
        }
        if (e instanceof Todo || opts.todo) {
            console.log(`not ok ${id} - ${desc} # TODO ${e instanceof Todo ? e.message : opts.todo}`);
            if (!(e instanceof Todo)) {
                diag(e && e.message ? e.message.split('\n')[0] : e);
            }
            return false;
        }
        failed += 1;
        console.log(`not ok ${id} - ${desc}`);
        diag(e && e.stack ? e.stack.split('\n').slice(0, 6).join('\n') : e);
        if (page && artifacts) {
            try {
                await page.screenshot({path: path.join(artifacts, `admin-failure-${String(id).padStart(2, '0')}.png`)});
            } catch (e2) {
                // the page may be gone
            }
            try {
                // leave no modal open for the next test
                await page.evaluate(() => document.querySelectorAll('dialog[open]')
                    .forEach((d) => d.dispatchEvent(new Event('cancel'))));
            } catch (e3) {
                // idem
            }
        }
        return false;
    }
}

function assert(cond, message) {
    if (!cond) {
        throw new Error(`assertion failed: ${message}`);
    }
}

function need(name) {
    const v = env[name];
    if (!v) {
        console.log(`1..0 # SKIP ${name} is not set`);
        process.exit(0);
    }
    return v;
}

// ------------------------------------------------------------------ setup

let mock = null;
if (!env.ESIGN_BASE && env.ESIGN_MOCK === '1') {
    const {startMock, DEFAULTS} = await import('../dev/mock-server.mjs');
    for (const [k, v] of Object.entries(DEFAULTS)) {
        env[k] = env[k] || v;
    }
    env.ESIGN_IDLE_SECONDS = env.ESIGN_IDLE_SECONDS || '8';
    mock = await startMock({https: true});
    env.ESIGN_BASE = mock.url;
    diag(`development mock at ${mock.url}`);
}

const BASE = need('ESIGN_BASE').replace(/\/+$/, '');
const OP_USER = need('ESIGN_OPERATOR_USER');
const OP_PASS = need('ESIGN_OPERATOR_PASS');
const ADMIN_USER = need('ESIGN_ADMIN_USER');
const ADMIN_PASS = need('ESIGN_ADMIN_PASS');
const XSS_NAME = need('ESIGN_XSS_NAME');
const IDLE = Number(env.ESIGN_IDLE_SECONDS || 8);
const ADMIN_PATH = env.ESIGN_ADMIN_PATH || '/admin/';
const PAGE_URL = `${BASE}${ADMIN_PATH}`;
const suffix = crypto.randomBytes(3).toString('hex');
const NEW_USER = env.ESIGN_NEW_USER || `clerk.${suffix}`;
const NEW_PASS = env.ESIGN_NEW_PASS || `Clerk-${suffix.toUpperCase()}-x9q`;
artifacts = path.resolve(env.ESIGN_ARTIFACTS || path.join(UI, '..', 't', 'artifacts'));
fs.mkdirSync(artifacts, {recursive: true});
// only our own earlier screenshots: the directory is shared with other tests
for (const f of fs.readdirSync(artifacts)) {
    if (/^admin-.*\.png$/.test(f)) {
        fs.rmSync(path.join(artifacts, f));
    }
}

const browser = await chromium.launch({
    executablePath: env.ESIGN_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext({ignoreHTTPSErrors: true, viewport: {width: 1280, height: 860},
    locale: 'en-GB'});
page = await context.newPage();
page.setDefaultTimeout(10000);

const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
// CSP violations are reported in the page; collect them from the start
await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
        window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
});
const cspViolations = [];
page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) {
        cspViolations.push(m.text());
    }
});

const byId = (id) => page.getByTestId(id);
let shotSeq = 0;
async function shot(name) {
    shotSeq += 1;
    const w = page.viewportSize().width;
    await page.waitForTimeout(150);   // let focus rings and toasts settle
    await page.screenshot({path: path.join(artifacts, `admin-${String(shotSeq).padStart(2, '0')}-${name}-${w}.png`),
        fullPage: true});
}

// While the scenario runs, a slow step must not trip over the idle warning
// (short test timeout) or a new-message pop-up: close them when they show.
async function keepAlive(on) {
    const dlg = byId('idle-dialog');
    if (on) {
        await page.addLocatorHandler(dlg, async () => {
            await byId('idle-stay').click();
        }, {noWaitAfter: true});
    } else {
        await page.removeLocatorHandler(dlg);
    }
}

async function closePopups(on) {
    const pop = byId('msg-popup');
    if (on) {
        await page.addLocatorHandler(pop, async () => {
            await byId('popup-close').click();
        });
    } else {
        await page.removeLocatorHandler(pop);
    }
}

async function login(user, pass) {
    await byId('login-username').fill(user);
    await byId('login-password').fill(pass);
    await byId('login-submit').click();
    await page.getByRole('heading', {level: 1}).first().waitFor();
    await byId('user-name').filter({hasText: user}).waitFor();
}

async function logout() {
    await byId('logout').click();
    await byId('login-submit').waitFor();
}

async function visit(navKey, heading) {
    await byId(`nav-${navKey}`).click();
    await page.getByRole('heading', {level: 1, name: heading, exact: true}).waitFor();
    await page.locator('main[aria-busy]').waitFor({state: 'detached'}).catch(() => {});
    await page.locator('main .loading').first().waitFor({state: 'detached'}).catch(() => {});
}

async function noErrorBox() {
    const n2 = await page.locator('main [data-testid=error]').count();
    if (n2) {
        throw new Error(`error shown: ${await page.locator('main [data-testid=error]').first().innerText()}`);
    }
}

/** Visit a view that depends on a route proposed in API-NEEDS.md: 404 -> TODO. */
async function visitProposed(navKey, heading, apiPath) {
    const resp = page.waitForResponse((r) => r.url().includes(`/api/v1${apiPath}`), {timeout: 10000});
    resp.catch(() => {});
    await visit(navKey, heading);
    const r = await resp;
    if (r.status() === 404 || r.status() === 405) {
        throw new Todo(`GET /api/v1${apiPath} answers ${r.status()}: proposed in admin-ui/API-NEEDS.md`);
    }
    await noErrorBox();
}

// ------------------------------------------------------------------ scenario

await keepAlive(true);
await closePopups(true);

await test('R-SEC-1 page sources: no inline script/style/handler, no innerHTML or eval', async () => {
    const html = fs.readFileSync(path.join(UI, 'index.html'), 'utf8');
    assert(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'inline <script> in index.html');
    assert(!/\sstyle\s*=/i.test(html), 'style attribute in index.html');
    assert(!/<style/i.test(html), '<style> element in index.html');
    assert(!/\son[a-z]+\s*=/i.test(html), 'inline event handler in index.html');
    const files = [];
    const walk = (d) => fs.readdirSync(d, {withFileTypes: true}).forEach((e) => (e.isDirectory()
        ? walk(path.join(d, e.name)) : e.name.endsWith('.js') && files.push(path.join(d, e.name))));
    walk(path.join(UI, 'js'));
    for (const f of files) {
        const src = fs.readFileSync(f, 'utf8');
        const bad = /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|\beval\s*\(|new\s+Function\s*\(|document\.write|setAttribute\(\s*['"]style/.exec(src);
        assert(!bad, `${path.relative(UI, f)} uses ${bad && bad[0]}`);
    }
});

await test('admin page loads with a strict Content-Security-Policy and shows the sign-in form', async () => {
    const resp = await page.goto(PAGE_URL);
    assert(resp && resp.ok(), `GET ${PAGE_URL}: ${resp && resp.status()}`);
    const csp = resp.headers()['content-security-policy'] || '';
    assert(/script-src 'self'/.test(csp), `CSP header: "${csp}"`);
    assert(!/unsafe-inline|unsafe-eval/.test(csp), `CSP allows unsafe-*: "${csp}"`);
    await byId('login-username').waitFor();
    await page.getByLabel('Username').waitFor();
    await shot('login');
});

await test('R-REG-1 registration form renders with the password rules', async () => {
    await page.goto(`${PAGE_URL}#/register`);
    await byId('reg-name').waitFor();
    await byId('password-rules').waitFor();
    await shot('register');
    await page.goto(`${PAGE_URL}#/login`);
    await byId('login-username').waitFor();
});

await test('R-AUTH-4 wrong password is refused with a message', async () => {
    await byId('login-username').fill(OP_USER);
    await byId('login-password').fill(`${OP_PASS}-wrong`);
    await byId('login-submit').click();
    await byId('login-error').waitFor();
    assert((await byId('login-error').innerText()).length > 0, 'error text');
});

await test('R-REG-2 operator signs in and sees the pending registrations', async () => {
    await login(OP_USER, OP_PASS);
    await page.getByRole('heading', {level: 1, name: 'Pending registrations'}).waitFor();
    for (const key of ['registrations', 'deregistrations', 'institutions', 'outbox', 'ledger']) {
        await byId(`nav-${key}`).waitFor();
    }
    assert(await byId('nav-accounts').count() === 0, 'operator has no accounts view');
    await page.locator('[data-testid=registrations-table]').waitFor();
});

await test('R-SEC-1 the <script> institution name is shown as text and nothing executes', async () => {
    const link = byId('institution-link').filter({hasText: XSS_NAME});
    await link.first().waitFor();
    assert(await link.first().innerText() === XSS_NAME, 'name rendered verbatim');
    await page.getByText('<script>', {exact: false}).first().waitFor();
    assert(await page.evaluate(() => typeof window.__xss) === 'undefined', 'window.__xss is undefined');
    assert(await page.locator('main script, main img[src="x"]').count() === 0, 'no injected elements');
    await shot('operator-registrations');
});

await test('R-REG-2 registration detail shows the institution and its licence', async () => {
    await byId('institution-link').filter({hasText: XSS_NAME}).first().click();
    await byId('institution-detail').waitFor();
    assert(await byId('institution-name').innerText() === XSS_NAME, 'name in detail');
    await page.locator('[data-testid=licence-image], [data-testid=licence-download], [data-testid=licence-none]')
        .first().waitFor();
    const img = byId('licence-image');
    if (await img.count()) {
        await page.waitForFunction(() => {
            const i = document.querySelector('[data-testid=licence-image]');
            return i && i.complete && i.naturalWidth > 0;
        });
    }
    assert(await page.evaluate(() => typeof window.__xss) === 'undefined', 'window.__xss still undefined');
    await shot('operator-registration-detail');
});

await test('a11y: the approve dialog is modal, takes focus, closes on Escape and returns focus', async () => {
    await byId('approve').click();
    const dlg = byId('confirm-dialog');
    await dlg.waitFor();
    assert(await dlg.getAttribute('role') === 'dialog', 'role=dialog');
    assert(await dlg.getAttribute('aria-modal') === 'true', 'aria-modal');
    assert(await page.evaluate(() => document.activeElement.closest('dialog') !== null), 'focus inside');
    await shot('operator-approve-dialog');
    await page.keyboard.press('Escape');
    await dlg.waitFor({state: 'detached'});
    assert(await page.evaluate(() => document.activeElement.dataset.testid) === 'approve', 'focus returned');
});

await test('R-REG-2 operator approves the registration', async () => {
    await byId('approve').click();
    await byId('confirm-ok').click();
    await byId('toast-ok').first().waitFor();
    await page.getByRole('heading', {level: 1, name: 'Pending registrations'}).waitFor();
    await page.locator('[data-testid=registrations-table], [data-testid=empty]').first().waitFor();
    assert(await byId('institution-link').filter({hasText: XSS_NAME}).count() === 0, 'no longer pending');
});

await test('R-REG-2 the approved institution is listed as active', async () => {
    await visit('institutions', 'Institutions');
    await byId('status-filter').selectOption('active');
    await byId('institutions-table').waitFor();
    await byId('institution-link').filter({hasText: XSS_NAME}).first().waitFor();
    assert(await page.evaluate(() => typeof window.__xss) === 'undefined', 'window.__xss still undefined');
    await shot('operator-institutions');
});

await test('R-REG-5 deregistration requests view', async () => {
    await visit('deregistrations', 'Deregistration requests');
    await page.locator('[data-testid=deregistrations-table], [data-testid=empty]').first().waitFor();
    await noErrorBox();
    await shot('operator-deregistrations');
});

await test('R-NOTE-1 notification outbox shows failed deliveries', async () => {
    await visitProposed('outbox', 'Notification outbox', '/admin/outbox');
    await page.locator('[data-testid=outbox-table], [data-testid=empty]').first().waitFor();
    await shot('operator-outbox');
});

await test('R-CONS-2 ledger overview lists the shards', async () => {
    await visit('ledger', 'Ledger');
    await page.locator('[data-testid=ledger-table], [data-testid=empty]').first().waitFor();
    await noErrorBox();
    await shot('operator-ledger');
});

await test('operator signs out', async () => {
    await logout();
    await byId('login-notice').waitFor();
});

await test('R-REG-3 the approved administrator signs in and sees the administration views', async () => {
    await login(ADMIN_USER, ADMIN_PASS);
    for (const key of ['contracts', 'accounts', 'audit', 'institution', 'messages']) {
        await byId(`nav-${key}`).waitFor();
    }
    assert(await byId('nav-registrations').count() === 0, 'no operator views');
    await visit('accounts', 'Accounts');
    await page.locator('[data-testid=accounts-table], [data-testid=empty]').first().waitFor();
    assert(await page.evaluate(() => typeof window.__xss) === 'undefined', 'window.__xss still undefined');
    await shot('admin-accounts');
});

await test('R-ACC-2 the account form explains and enforces the password rules', async () => {
    await byId('account-new').click();
    await byId('account-form').waitFor();
    await byId('account-username').fill(NEW_USER);
    await byId('account-password').fill(`${NEW_USER}A1x`);
    const rule = byId('password-rules').locator('[data-rule=username]');
    assert(await rule.evaluate((el) => el.classList.contains('rule-bad')), 'username rule flagged');
    await byId('account-password').fill('short1A');
    assert(await byId('password-rules').locator('[data-rule=length]')
        .evaluate((el) => el.classList.contains('rule-bad')), 'length rule flagged');
    await byId('account-submit').click();
    await byId('account-error').waitFor();
    assert(/password/i.test(await byId('account-error').innerText()), 'password problem reported');
});

await test('R-REG-4 administrator creates a business_operator account with the view permission', async () => {
    await byId('account-password').fill(NEW_PASS);
    await byId('account-real-name').fill('Carol Clerk');
    await byId('account-mobile').fill('13912345678');
    await byId('account-email').fill(`${NEW_USER}@bank.example`);
    await byId('account-department').fill('Corporate banking');
    await byId('account-tier').selectOption('business_operator');
    for (const p of ['initiate', 'view', 'confirm', 'download', 'evidence']) {
        await byId(`perm-${p}`).setChecked(p === 'view');
    }
    await shot('admin-account-new');
    await byId('account-submit').click();
    const done = byId('toast-ok').first();
    const stepup = byId('stepup-dialog');
    await Promise.race([done.waitFor(), stepup.waitFor()]);
    if (await stepup.isVisible()) {
        await byId('stepup-password').fill(ADMIN_PASS);
        await byId('stepup-ok').click();
        await done.waitFor();
    }
    await page.getByRole('heading', {level: 1, name: 'Accounts'}).waitFor();
    await byId('account-link').filter({hasText: NEW_USER}).first().waitFor();
});

await test('R-AUD-1 audit log view with filters', async () => {
    await visit('audit', 'Audit log');
    await page.locator('[data-testid=audit-table], [data-testid=empty]').first().waitFor();
    await noErrorBox();
    await byId('audit-account').fill(ADMIN_USER);
    await byId('audit-apply').click();
    await page.waitForURL(/#\/audit\?account=/);
    await page.locator('[data-testid=audit-table], [data-testid=empty]').first().waitFor();
    await noErrorBox();
    await shot('admin-audit');
});

await test('R-ACC-3 contracts overview by status', async () => {
    await visit('contracts', 'Contracts');
    await page.locator('[data-testid=contracts-table], [data-testid=empty]').first().waitFor();
    await noErrorBox();
    await shot('admin-contracts');
    await byId('contracts-status').selectOption('signing');
    await page.waitForURL(/status=signing/);
    await page.locator('[data-testid=contracts-table], [data-testid=empty]').first().waitFor();
    await noErrorBox();
});

await test('R-AUTH-2 confirming a contract asks for step-up verification first', async () => {
    const link = byId('contract-link');
    if (await link.count() === 0) {
        throw new Skip('no contract in signing for this institution');
    }
    await link.first().click();
    await byId('contract-detail').waitFor();
    await page.locator('main .facts').first().waitFor();
    if (await byId('contract-confirm').count() === 0) {
        throw new Skip('the first contract in signing awaits no confirmation from us');
    }
    await byId('contract-confirm').click();
    await byId('confirm-ok').click();
    await byId('stepup-dialog').waitFor();
    assert(await page.evaluate(() => document.activeElement.dataset.testid) === 'stepup-password',
        'focus on the password field');
    await byId('stepup-password').fill(`${ADMIN_PASS}-wrong`);
    await byId('stepup-ok').click();
    await byId('stepup-error').waitFor();
    await shot('admin-stepup');
    await byId('stepup-password').fill(ADMIN_PASS);
    await byId('stepup-ok').click();
    await byId('stepup-dialog').waitFor({state: 'detached'});
    await byId('toast-ok').filter({hasText: 'confirmed'}).first().waitFor();
});

await test('R-REG-5 institution view with certificate', async () => {
    await byId('nav-institution').click();
    await page.locator('main .facts').first().waitFor();
    await noErrorBox();
    await shot('admin-institution');
});

await test('administrator signs out', async () => {
    await logout();
});

await test('R-ACC-3 the new business_operator account sees only its views', async () => {
    await closePopups(false);
    await login(NEW_USER, NEW_PASS);
    await byId('nav-contracts').waitFor();
    await byId('nav-messages').waitFor();
    assert(await byId('nav-accounts').count() === 0, 'no accounts nav');
    assert(await byId('nav-audit').count() === 0, 'no audit nav');
    assert(await byId('nav-institution').count() === 0, 'no institution nav');
    await page.getByRole('heading', {level: 1, name: 'Contracts'}).waitFor();
    await page.locator('[data-testid=contracts-table], [data-testid=empty]').first().waitFor();
    await noErrorBox();
    await shot('account-contracts');
    await page.goto(`${PAGE_URL}#/accounts`);
    await byId('forbidden').waitFor();
});

await test('R-NOTE-4 a new in-site message pops up with an unread badge', async () => {
    await byId('msg-popup').waitFor({timeout: 20000});
    await byId('msg-badge').waitFor();
    const before = Number(await byId('msg-badge').innerText());
    assert(before >= 1, `badge ${before}`);
    await shot('account-message-popup');
    await byId('popup-read').click();
    await byId('msg-popup').waitFor({state: 'hidden'});
    await page.waitForFunction((b) => {
        const el = document.querySelector('[data-testid=msg-badge]');
        return el.hidden || Number(el.textContent) < b;
    }, before);
});

await closePopups(true);

await test('R-NOTE-4 messages view', async () => {
    await visit('messages', 'Messages');
    await page.locator('[data-testid=messages-list], [data-testid=empty]').first().waitFor();
    await noErrorBox();
    await shot('account-messages');
});

await test('responsive: at 390 px the navigation collapses behind a menu button', async () => {
    await page.setViewportSize({width: 390, height: 844});
    await visit('contracts', 'Contracts').catch(async () => {
        // the nav is collapsed: open it first
        await byId('nav-toggle').click();
        await visit('contracts', 'Contracts');
    });
    await byId('nav-toggle').waitFor();
    assert(!(await byId('nav').isVisible()), 'nav hidden at 390 px');
    await shot('account-contracts');
    await byId('nav-toggle').click();
    await byId('nav').waitFor();
    assert(await byId('nav-toggle').getAttribute('aria-expanded') === 'true', 'aria-expanded');
    await shot('account-nav-open');
    await byId('nav-messages').click();
    await page.getByRole('heading', {level: 1, name: 'Messages'}).waitFor();
    assert(!(await byId('nav').isVisible()), 'nav closes after navigation');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(overflow <= 1, `no horizontal scrolling (overflow ${overflow}px)`);
    await page.setViewportSize({width: 1280, height: 860});
});

await keepAlive(false);

await test(`R-AUTH-1 the idle warning appears before the ${IDLE} s idle timeout runs out`, async () => {
    const dlg = byId('idle-dialog');
    await dlg.waitFor({timeout: (IDLE + 3) * 1000});
    const left = parseInt(await byId('idle-countdown').innerText(), 10);
    assert(left > 0 && left <= IDLE, `countdown ${left}`);
    assert(await page.evaluate(() => document.activeElement.dataset.testid) === 'idle-stay',
        'focus on "Stay signed in"');
    await shot('account-idle-warning');
});

await test('R-AUTH-1 "Stay signed in" slides the session', async () => {
    const slid = page.waitForResponse((r) => r.url().endsWith('/api/v1/session')
        && r.request().method() === 'GET');
    slid.catch(() => {});
    await byId('idle-stay').click();
    const r = await slid;
    assert(r.status() === 200, `GET /session ${r.status()}`);
    await byId('idle-dialog').waitFor({state: 'detached'});
});

await test('R-AUTH-1 when the idle time runs out the page returns to sign-in with a message', async () => {
    await byId('idle-dialog').waitFor({timeout: (IDLE + 3) * 1000});
    await byId('login-notice').waitFor({timeout: (IDLE + 3) * 1000});
    assert(/expired/i.test(await byId('login-notice').innerText()), 'expiry message');
    await shot('login-expired');
    await page.waitForTimeout(1500);
    const r = await page.request.get(`${BASE}/api/v1/session`);
    assert(r.status() === 401, `the session is ended on the server too (GET /session ${r.status()})`);
});

await test('R-SEC-1 no script ran from data, no CSP violation, no page error', async () => {
    assert(await page.evaluate(() => typeof window.__xss) === 'undefined', 'window.__xss undefined');
    const inPage = await page.evaluate(() => window.__csp || []);
    const all = [...cspViolations, ...inPage];
    assert(all.length === 0, `CSP violations: ${all.join('; ')}`);
    assert(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
});

await browser.close();
if (mock) {
    await mock.close();
}
console.log(`1..${n}`);
diag(`screenshots in ${artifacts}`);
process.exit(failed ? 1 : 0);
