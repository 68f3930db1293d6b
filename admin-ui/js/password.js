// Strong-password rules (R-ACC-2) explained inline, checked as the user types.
// The server decides (400 weak_password); this only saves a round trip.

import {h} from './h.js';

// A short list: the server holds the real one.
const COMMON = new Set(['password', 'password1', 'password123', 'passw0rd', 'qwerty123',
    'qwertyuiop', 'abc123456', 'abcd1234', 'admin123', 'administrator', 'welcome1',
    'welcome123', 'iloveyou1', 'letmein123', 'changeme1', 'p@ssw0rd', 'password1!',
    '123456789', '1234567890', 'qwerty', '11111111', '12345678', 'aa123456', 'a1234567',
    'zaq12wsx', '1qaz2wsx', 'qazwsx123', 'monkey123', 'dragon123', 'sunshine1', 'football1']);

export function checkPassword(pw, username) {
    const u = (username || '').trim().toLowerCase();
    return [
        {id: 'upper', text: 'an upper-case letter (A–Z)', ok: /[A-Z]/.test(pw)},
        {id: 'lower', text: 'a lower-case letter (a–z)', ok: /[a-z]/.test(pw)},
        {id: 'digit', text: 'a digit (0–9)', ok: /[0-9]/.test(pw)},
        {id: 'length', text: 'more than 8 characters', ok: pw.length > 8},
        {id: 'username', text: 'does not contain the username',
            ok: pw.length > 0 && (u === '' || !pw.toLowerCase().includes(u))},
        {id: 'common', text: 'is not a common password',
            ok: pw.length > 0 && !COMMON.has(pw.toLowerCase())},
    ];
}

/**
 * A live checklist under a password input. Returns {el, ok()}; el has an id
 * for aria-describedby.
 */
export function passwordRules(input, usernameInput, id) {
    const items = new Map();
    const list = h('ul', {class: 'rules', 'data-testid': 'password-rules'});
    for (const c of checkPassword('', '')) {
        const state = h('span', {class: 'visually-hidden'});
        const li = h('li', {'data-rule': c.id, class: 'rule'}, h('span', {class: 'rule-mark', 'aria-hidden': 'true'}), c.text, state);
        items.set(c.id, {li, state});
        list.appendChild(li);
    }
    const el = h('div', {class: 'hint', id}, h('p', null, 'The password must contain:'), list);
    function update() {
        for (const c of checkPassword(input.value, usernameInput ? usernameInput.value : '')) {
            const it = items.get(c.id);
            it.li.classList.toggle('rule-ok', c.ok);
            it.li.classList.toggle('rule-bad', !c.ok && input.value.length > 0);
            it.state.textContent = c.ok ? ' (met)' : ' (not met)';
        }
    }
    input.addEventListener('input', update);
    if (usernameInput) {
        usernameInput.addEventListener('input', update);
    }
    update();
    return {
        el,
        ok: () => checkPassword(input.value, usernameInput ? usernameInput.value : '')
            .every((c) => c.ok),
    };
}
