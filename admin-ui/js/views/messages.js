// In-site messages of the caller (R-NOTE-4).

import {h, replace, fmtTime} from '../h.js';
import {toastError} from '../toast.js';
import {markRead, subjectOf, bodyOf} from '../messages.js';
import {pageHeader, pagedList, enc} from './common.js';

function target(m) {
    if (m.contract_id) {
        return `#/contracts/${enc(m.contract_id)}`;
    }
    if (typeof m.link === 'string' && /^#\/[\w/.-]*$/.test(m.link)) {
        return m.link;
    }
    return null;
}

export function messagesView(main, params, query) {
    const unread = query.get('unread') === '1';
    const toggle = h('a', {href: unread ? '#/messages' : '#/messages?unread=1', class: 'button-link secondary',
        'data-testid': 'messages-toggle'}, unread ? 'Show all' : 'Show unread only');
    const list = pagedList('/messages', unread ? {unread: 1} : {}, (items) => h('ul',
        {class: 'message-list', 'data-testid': 'messages-list'},
        items.map((m) => {
            const read = Boolean(m.read || m.read_at);
            const link = target(m);
            const btn = read ? null : h('button', {type: 'button', class: 'secondary',
                'data-testid': 'message-read'}, 'Mark as read');
            if (btn) {
                btn.addEventListener('click', async () => {
                    btn.disabled = true;
                    try {
                        await markRead(m.id);
                        list.reload();
                    } catch (e) {
                        toastError(e);
                        btn.disabled = false;
                    }
                });
            }
            return h('li', {class: `message ${read ? 'read' : 'unread'}`, 'data-id': m.id},
                h('div', {class: 'message-head'},
                    h('h2', {class: 'message-subject'}, read ? null : h('span', {class: 'visually-hidden'}, 'Unread: '),
                        subjectOf(m)),
                    h('time', {datetime: m.created_at || ''}, fmtTime(m.created_at || m.at))),
                h('p', {class: 'message-body'}, bodyOf(m)),
                h('div', {class: 'message-actions'},
                    link ? h('a', {href: link}, 'Open') : null, btn));
        })), {empty: unread ? 'No unread messages.' : 'No messages.', testid: 'messages'});
    replace(main, pageHeader('Messages', toggle), list);
}
