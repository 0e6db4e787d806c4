// partnerledger console: a small single-page app over the HTTP/JSON API
// (/v1/...). No framework, no third-party code. The whole view lives in the
// URL fragment (#/page?param=value&...), so a link reproduces exactly the
// figures seen. Amounts are int64 minor units in strings (proto3 JSON) and
// are formatted with BigInt, never floating point.
'use strict';

(() => {
  const PAGES = [
    ['obligations', 'Obligations'],
    ['statement', 'Statement'],
    ['referral', 'Referral balance'],
    ['conflicts', 'Conflicts'],
    ['health', 'Partnership health'],
    ['charts', 'Charts'],
  ];
  const PILLARS = {
    PILLAR_MARGINS: ['1', 'Margins'],
    PILLAR_PRIME_PARTNER: ['2', 'Prime partner'],
    PILLAR_DOCUMENTATION: ['3', 'Documentation'],
    PILLAR_ELEVATOR_PITCH: ['4', 'Elevator pitch'],
    PILLAR_BIDIRECTIONAL: ['5', 'Bi-directional'],
    PILLAR_VISIBILITY: ['6', 'Visibility'],
    PILLAR_CONFLICTS: ['7', 'Conflicts'],
  };
  const TOKEN_KEY = 'partnerledger.token';
  const main = document.getElementById('main');
  let exponents = {};      // currency -> minor-unit exponent (server's table)
  let dateParams = {};     // API path -> its business-date query parameter
  let renderSeq = 0;       // drops the output of a superseded render

  // ---- DOM ---------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  const svgNs = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, ...children) {
    const e = document.createElementNS(svgNs, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') e.textContent = v;
      else e.setAttribute(k, String(v));
    }
    for (const c of children.flat(Infinity)) if (c) e.append(c);
    return e;
  }

  // ---- the URL holds the view --------------------------------------------
  function route() {
    const h = location.hash.replace(/^#\/?/, '');
    const q = h.indexOf('?');
    const page = (q < 0 ? h : h.slice(0, q)) || 'obligations';
    const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1));
    return { page, params };
  }
  function href(page, params) {
    const p = new URLSearchParams();
    const { params: cur } = route();
    for (const k of ['date', 'at', 'time']) if (cur.get(k)) p.set(k, cur.get(k));
    for (const [k, v] of Object.entries(params || {})) {
      if (v === null || v === undefined || v === '') p.delete(k);
      else p.set(k, v);
    }
    const s = p.toString();
    return '#/' + page + (s ? '?' + s : '');
  }
  function go(page, params) { location.hash = href(page, params); }

  // ---- money -------------------------------------------------------------
  function exponentOf(currency) {
    return currency in exponents ? exponents[currency] : 2;
  }
  // "2200000", "EUR" -> "22,000.00" (group) or "22000.00".
  function major(minor, currency, group = true) {
    let v = BigInt(minor || '0');
    const neg = v < 0n;
    if (neg) v = -v;
    const e = exponentOf(currency);
    let digits = v.toString();
    let whole = digits;
    let frac = '';
    if (e > 0) {
      if (digits.length <= e) digits = '0'.repeat(e + 1 - digits.length) + digits;
      whole = digits.slice(0, digits.length - e);
      frac = digits.slice(digits.length - e);
    }
    if (group) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    return (neg ? '-' : '') + whole + (frac ? '.' + frac : '');
  }
  function money(minor, currency, cls) {
    const neg = BigInt(minor || '0') < 0n;
    return el('td', { class: 'num' + (neg ? ' neg' : '') + (cls ? ' ' + cls : '') },
              major(minor, currency));
  }
  function toNumber(minor, currency) {  // for chart geometry only
    return Number(BigInt(minor || '0')) / Math.pow(10, exponentOf(currency));
  }
  function shortEnum(name, prefix) {
    return (name || '').replace(prefix, '').toLowerCase().replace(/_/g, '-');
  }

  // ---- API ---------------------------------------------------------------
  class ApiError extends Error {
    constructor(http, body) {
      const e = (body && body.error) || {};
      super(e.message || ('HTTP ' + http));
      this.http = http;
      this.status = e.status || '';
      this.field = e.field || '';
    }
  }
  function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

  // The view's as-of, as query parameters of `path`.
  function asOfParams(path) {
    const { params } = route();
    const out = {};
    if (params.get('at')) out['as_of.position'] = params.get('at');
    else if (params.get('time')) out['as_of.recorded_at'] = params.get('time') + 'Z';
    if (params.get('date') && dateParams[path]) out[dateParams[path]] = params.get('date');
    return out;
  }
  async function api(path, query, opts = {}) {
    const q = new URLSearchParams();
    const all = Object.assign({}, opts.noAsOf ? {} : asOfParams(opts.tmpl || path), query || {});
    for (const [k, v] of Object.entries(all)) {
      if (Array.isArray(v)) v.forEach(x => q.append(k, x));
      else if (v !== '' && v !== null && v !== undefined) q.set(k, v);
    }
    const headers = {};
    if (token()) headers.Authorization = 'Bearer ' + token();
    const url = path + (q.toString() ? '?' + q : '');
    const res = await fetch(url, { headers });
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new ApiError(res.status, body);
    return body;
  }

  // ---- shared pieces -----------------------------------------------------
  function errorBox(err) {
    if (!(err instanceof ApiError)) {
      return el('div', { class: 'error', role: 'alert' }, String(err));
    }
    const title = {
      401: '401 — sign in: this server wants a token',
      403: '403 — not permitted: this principal may not see this',
      404: '404 — not found',
    }[err.http] || (err.http + ' — ' + err.status);
    return el('div', { class: 'error', role: 'alert', 'data-http': err.http },
              el('strong', { text: title }),
              el('div', { class: 'detail' }, err.status ? err.status + ': ' : '', err.message),
              err.field ? el('div', { class: 'detail' }, 'field: ', el('code', { text: err.field })) : null);
  }
  function asOfBadge(resp) {
    const { params } = route();
    const parts = ['as of position ' + (resp.asOfPosition || '0')];
    if (params.get('date')) {
      parts.push(dateParams['/v1/obligations'] ? 'business date ' + params.get('date')
                                               : 'business date not supported by this server');
    }
    return el('p', { class: 'asof-badge', 'data-test': 'as-of' }, parts.join(' · '));
  }
  function controls(fields, onApply) {
    const form = el('form', { class: 'controls', autocomplete: 'off' });
    for (const f of fields) {
      form.append(el('label', {}, f.label,
        el('input', { name: f.name, value: f.value || '', type: f.type || 'text',
                      placeholder: f.placeholder || '', size: f.size || 8 })));
    }
    form.append(el('button', { type: 'submit', text: 'Show' }));
    form.addEventListener('submit', ev => {
      ev.preventDefault();
      const v = {};
      for (const f of fields) v[f.name] = form.elements[f.name].value.trim();
      onApply(v);
    });
    return form;
  }
  function table(head, rows, opts = {}) {
    return el('table', { class: 'grid' + (opts.cls ? ' ' + opts.cls : ''), 'data-test': opts.test },
      el('thead', {}, el('tr', {}, head.map(h => el('th', { class: h.startsWith('#') ? 'num' : '' }, h.replace(/^#/, ''))))),
      el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', { colspan: head.length, class: 'empty' }, opts.empty || 'Nothing here.'))));
  }
  function card(label, value, cls, test) {
    return el('div', { class: 'card ' + (cls || ''), 'data-test': test },
              el('div', { class: 'label', text: label }), el('div', { class: 'value', text: value }));
  }
  function monthAdd(period, n) {
    let [y, m] = period.split('-').map(Number);
    m += n;
    while (m > 12) { m -= 12; y += 1; }
    while (m < 1) { m += 12; y -= 1; }
    return y + '-' + String(m).padStart(2, '0');
  }
  function anchorMonth() {
    const { params } = route();
    const d = params.get('date') || new Date().toISOString().slice(0, 10);
    return d.slice(0, 7);
  }
  // Statements of consecutive months, fetched a few at a time.
  async function statements(q, periods) {
    const out = new Array(periods.length);
    let next = 0;
    async function worker() {
      while (next < periods.length) {
        const i = next++;
        out[i] = await api('/v1/statement', Object.assign({}, q, { period: periods[i] }));
      }
    }
    await Promise.all([worker(), worker(), worker(), worker()]);
    return out;
  }
  // The months around the view's anchor that have statement lines.
  async function activeMonths(q) {
    const from = monthAdd(anchorMonth(), -23);
    const periods = Array.from({ length: 36 }, (_, i) => monthAdd(from, i));
    const st = await statements(q, periods);
    return periods.filter((p, i) => (st[i].lines || []).length > 0);
  }
  async function firstPair() {
    const r = await api('/v1/obligations', {});
    const row = (r.obligations || [])[0];
    return row ? { payer: row.payer, payee: row.payee, currency: row.currency } : null;
  }

  // ---- pages ---------------------------------------------------------------
  async function obligationsPage(params) {
    const q = { partner_id: params.get('partner'), currency: params.get('currency') };
    const r = await api('/v1/obligations', q);
    const rows = (r.obligations || []).map(o => el('tr', {
      class: 'link', 'data-test': 'obligation-row', tabindex: 0,
      'data-payer': o.payer, 'data-payee': o.payee, 'data-currency': o.currency,
      title: 'Open the statement',
      onclick: () => openStatement(o.payer, o.payee, o.currency),
      onkeydown: ev => { if (ev.key === 'Enter') openStatement(o.payer, o.payee, o.currency); },
    },
      el('td', {}, el('span', { class: 'pair' }, o.payer, el('span', { class: 'arrow', text: ' → ' }), o.payee)),
      el('td', { text: o.currency }),
      el('td', {}, el('span', { class: 'tag', text: shortEnum(o.kind, 'OBLIGATION_KIND_') })),
      money(o.accruedMinor, o.currency, 'accrued'),
      money(o.reversedMinor, o.currency, 'reversed'),
      money(o.settledMinor, o.currency, 'settled'),
      money(o.onHoldMinor, o.currency, 'on-hold'),
      money(o.outstandingMinor, o.currency, 'outstanding strong')));
    const net = (r.net || []).map(n => el('tr', { 'data-test': 'net-row' },
      el('td', {}, n.partnerA + ' ⇄ ' + n.partnerB),
      el('td', { text: n.currency }),
      el('td', { class: 'strong' }, n.netPayer ? n.netPayer + ' owes ' + n.netPayee : 'settled up'),
      money(n.netMinor, n.currency, 'strong')));
    const totals = {};
    for (const o of r.obligations || []) {
      totals[o.currency] = (totals[o.currency] || 0n) + BigInt(o.outstandingMinor);
    }
    return [
      el('h1', { text: 'Who owes whom' }),
      asOfBadge(r),
      controls([{ name: 'partner', label: 'Partner', value: params.get('partner') },
                { name: 'currency', label: 'Currency', value: params.get('currency'), size: 4 }],
               v => go('obligations', v)),
      el('div', { class: 'cards' }, Object.entries(totals).map(([c, t]) =>
        card('Outstanding ' + c, major(t.toString(), c) + ' ' + c, 'accent', 'total-' + c))),
      table(['Payer → payee', 'Currency', 'Kind', '#Accrued', '#Reversed', '#Settled', '#On hold', '#Outstanding'],
            rows, { test: 'obligations', empty: 'No obligations at this point.' }),
      el('p', { class: 'hint', text: 'Click a row for its statement.' }),
      el('h2', { text: 'Netted per pair' }),
      table(['Pair', 'Currency', 'Net', '#Amount'], net, { test: 'net' }),
    ];
  }

  async function openStatement(payer, payee, currency) {
    let period = anchorMonth();
    try {
      const months = await activeMonths({ payer, payee, currency });
      if (months.length) period = months[months.length - 1];
    } catch (e) { /* the statement page shows the error */ }
    go('statement', { payer, payee, currency, period });
  }

  function statementCsv(q, r) {
    const c = q.currency;
    const field = s => /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
    const line = f => f.map(field).join(',') + '\n';
    let out = line(['type', 'position', 'date', 'deal_id', 'revenue_id', 'settlement_id',
                    'kind', 'rate_bp', 'contract_year', 'amount', 'currency', 'event_id']);
    out += line(['opening', '', '', '', '', '', '', '', '', major(r.openingMinor, c, false), c, '']);
    for (const l of r.lines || []) {
      const signed = l.type === 'STATEMENT_LINE_TYPE_ACCRUAL' ? BigInt(l.amountMinor) : -BigInt(l.amountMinor);
      out += line([shortEnum(l.type, 'STATEMENT_LINE_TYPE_'), String(l.position), l.date, l.dealId,
                   l.revenueId, l.settlementId,
                   l.kind === 'OBLIGATION_KIND_UNSPECIFIED' ? '' : shortEnum(l.kind, 'OBLIGATION_KIND_'),
                   l.rateBp ? String(l.rateBp) : '', l.contractYear ? String(l.contractYear) : '',
                   major(signed.toString(), c, false), c, l.eventId]);
    }
    out += line(['closing', '', '', '', '', '', '', '', '', major(r.closingMinor, c, false), c, '']);
    return out;
  }

  async function statementPage(params) {
    let q = { payer: params.get('payer'), payee: params.get('payee'),
              currency: params.get('currency'), period: params.get('period') };
    if (!q.payer || !q.payee || !q.currency) {
      const p = await firstPair();
      if (p) {
        await openStatement(p.payer, p.payee, p.currency);
        return null;
      }
    }
    if (!q.period) q.period = anchorMonth();
    const form = controls([
      { name: 'payer', label: 'Payer', value: q.payer },
      { name: 'payee', label: 'Payee', value: q.payee },
      { name: 'currency', label: 'Currency', value: q.currency, size: 4 },
      { name: 'period', label: 'Period', value: q.period, type: 'month' }],
      v => go('statement', v));
    const r = await api('/v1/statement', q);
    const c = q.currency;
    const lines = (r.lines || []).map(l => {
      const signed = l.type === 'STATEMENT_LINE_TYPE_ACCRUAL' ? l.amountMinor : '-' + l.amountMinor;
      return el('tr', { 'data-test': 'statement-line' },
        el('td', { text: l.date }),
        el('td', {}, el('span', { class: 'tag ' + shortEnum(l.type, 'STATEMENT_LINE_TYPE_'), text: shortEnum(l.type, 'STATEMENT_LINE_TYPE_') })),
        el('td', {}, l.dealId ? el('a', { href: href('deal', { id: l.dealId }), text: l.dealId }) : ''),
        el('td', { text: l.revenueId || l.settlementId || '' }),
        el('td', { class: 'num', text: l.contractYear || '' }),
        el('td', { class: 'num', text: l.rateBp ? (l.rateBp / 100).toFixed(2) + '%' : '' }),
        money(signed, c),
        el('td', { class: 'num' }, el('a', { href: href('event', { position: l.position }), text: '#' + l.position })),
        el('td', { class: 'mono small', text: l.eventId }));
    });
    const csv = statementCsv(q, r);
    const download = el('a', {
      class: 'button', 'data-test': 'csv', download: `statement-${q.payer}-${q.payee}-${c}-${q.period}.csv`,
      href: 'data:text/csv;charset=utf-8,' + encodeURIComponent(csv), text: 'Download CSV' });
    return [
      el('h1', {}, 'Statement ', el('span', { class: 'pair' }, q.payer, ' → ', q.payee), ' · ', c, ' · ', q.period),
      asOfBadge(r),
      form,
      el('div', { class: 'actions' },
         el('a', { class: 'button quiet', href: href('statement', Object.assign({}, q, { period: monthAdd(q.period, -1) })), text: '← ' + monthAdd(q.period, -1) }),
         el('a', { class: 'button quiet', href: href('statement', Object.assign({}, q, { period: monthAdd(q.period, 1) })), text: monthAdd(q.period, 1) + ' →' }),
         download,
         el('button', { type: 'button', class: 'quiet', onclick: () => window.print(), text: 'Print' })),
      el('div', { class: 'cards' },
        card('Opening', major(r.openingMinor, c), '', 'opening'),
        card('Accrued', '+' + major(r.accruedMinor, c), '', 'accrued'),
        card('Reversed', '−' + major(r.reversedMinor, c), '', 'reversed'),
        card('Settled', '−' + major(r.settledMinor, c), '', 'settled'),
        card('Closing', major(r.closingMinor, c) + ' ' + c, 'accent', 'closing')),
      table(['Date', 'Type', 'Deal', 'Revenue line / settlement', '#Year', '#Rate', '#Amount', '#Position', 'Event'],
            lines, { test: 'statement', empty: 'No lines in this period.' }),
    ];
  }

  async function pairFromParams(params) {
    let a = params.get('a');
    let b = params.get('b');
    if (!a || !b) {
      const p = await firstPair();
      if (p) { [a, b] = [p.payee, p.payer].sort(); }
    }
    return [a, b];
  }

  async function dealsTable(ids) {
    const deals = await Promise.all([...new Set(ids)].map(id => api('/v1/deals/' + encodeURIComponent(id), {}, { tmpl: '/v1/deals/{deal_id}' })));
    return table(['Deal', 'Originator → provider', 'Prime', 'Class', 'Status', '#Revenue', '#Margin', 'Customer told'],
      deals.map(d => el('tr', { 'data-test': 'deal-row' },
        el('td', {}, el('a', { href: href('deal', { id: d.dealId }), text: d.dealId })),
        el('td', { text: d.originator + ' → ' + d.provider }),
        el('td', { text: d.prime }),
        el('td', { text: shortEnum(d.offeringClass, 'OFFERING_CLASS_') }),
        el('td', {}, el('span', { class: 'tag', text: shortEnum(d.status, 'DEAL_STATUS_') })),
        el('td', { class: 'num' }, major(d.revenueMinor, d.currency) + ' ' + d.currency),
        el('td', { class: 'num' }, major(d.marginMinor, d.currency) + ' ' + d.currency),
        el('td', { text: d.disclosedToCustomer ? 'yes' : 'no' }))),
      { test: 'deals', empty: 'No deals.' });
  }

  async function referralPage(params) {
    const [a, b] = await pairFromParams(params);
    const form = controls([{ name: 'a', label: 'Partner', value: a }, { name: 'b', label: 'and', value: b }],
                          v => go('referral', v));
    if (!a || !b) return [el('h1', { text: 'Referral balance' }), form];
    const r = await api('/v1/referral-balance', { partner_a: a, partner_b: b });
    const dir = (d, test) => el('div', { class: 'panel', 'data-test': test },
      el('h3', {}, el('span', { class: 'pair' }, d.fromPartner, ' → ', d.toPartner)),
      el('p', { class: 'muted' }, `${d.dealsOriginated} deal(s) originated, ${d.dealsWon} won`),
      table(['Currency', '#Revenue', '#Margin'], (d.money || []).map(m => el('tr', {},
        el('td', { text: m.currency }), money(m.revenueMinor, m.currency), money(m.marginMinor, m.currency))),
        { empty: 'Nothing booked.' }));
    let deals = null;
    try {
      const h = await api('/v1/partnership-health', { partner_a: a, partner_b: b });
      const line = (h.lines || []).find(l => l.pillar === 'PILLAR_BIDIRECTIONAL');
      deals = await dealsTable(line ? line.dealIds || [] : []);
    } catch (e) { deals = errorBox(e); }
    return [
      el('h1', {}, 'Referral balance ', el('span', { class: 'pair' }, a, ' ⇄ ', b)),
      asOfBadge(r), form,
      el('div', { class: 'cards' },
        card('Reciprocity ratio', (r.reciprocityRatio || 0).toFixed(2), 'accent', 'reciprocity'),
        (r.net || []).map(m => card('Net ' + m.currency + ' revenue (' + a + '→' + b + ' minus ' + b + '→' + a + ')',
                                    major(m.revenueMinor, m.currency) + ' ' + m.currency, '', 'net-' + m.currency))),
      el('div', { class: 'two' }, dir(r.aToB, 'a-to-b'), dir(r.bToA, 'b-to-a')),
      el('h2', { text: 'Deals behind it' }), deals,
    ];
  }

  async function conflictsPage(params) {
    const status = params.get('status') || '';
    const r = await api('/v1/conflicts', { status: status ? 'CONFLICT_STATUS_' + status.toUpperCase() : '' });
    const held = [];
    try {
      const o = await api('/v1/obligations', {});
      for (const row of o.obligations || []) {
        if (BigInt(row.onHoldMinor) !== 0n) held.push(row);
      }
    } catch (e) { held.length = 0; }
    const rows = (r.conflicts || []).map(c => el('tr', { 'data-test': 'conflict-row' },
      el('td', { class: 'mono', text: c.conflictId }),
      el('td', {}, el('span', { class: 'tag ' + shortEnum(c.status, 'CONFLICT_STATUS_'), text: shortEnum(c.status, 'CONFLICT_STATUS_') })),
      el('td', { text: shortEnum(c.kind, 'CONFLICT_KIND_') }),
      el('td', {}, c.dealId ? el('a', { href: href('deal', { id: c.dealId }), text: c.dealId }) : '',
                   c.otherDealId ? [' / ', el('a', { href: href('deal', { id: c.otherDealId }), text: c.otherDealId })] : ''),
      el('td', { text: c.raisedBy }),
      el('td', { text: c.summary }),
      el('td', { class: 'num', text: Math.round(Number(c.ageSeconds || 0) / 86400) + ' d' }),
      el('td', { text: c.resolution || '' })));
    const tabs = el('div', { class: 'tabs' }, [['', 'All'], ['open', 'Open'], ['resolved', 'Resolved']].map(([s, t]) =>
      el('a', { href: href('conflicts', { status: s }), class: s === status ? 'on' : '', text: t })));
    return [
      el('h1', { text: 'Conflicts' }), asOfBadge(r), tabs,
      el('div', { class: 'cards' },
        card('Open', String(r.open || 0), r.open ? 'warn' : '', 'open'),
        card('Resolved', String(r.resolved || 0), '', 'resolved'),
        held.length ? held.map(h => card('On hold ' + h.payer + '→' + h.payee,
                                         major(h.onHoldMinor, h.currency) + ' ' + h.currency, 'warn', 'on-hold'))
                    : card('On hold', 'nothing', '', 'on-hold')),
      table(['Conflict', 'Status', 'Kind', 'Deal(s)', 'Raised by', 'Summary', '#Age', 'Resolution'], rows,
            { test: 'conflicts', empty: 'No conflicts.' }),
    ];
  }

  async function healthPage(params) {
    const [a, b] = await pairFromParams(params);
    const form = controls([{ name: 'a', label: 'Partner', value: a }, { name: 'b', label: 'and', value: b }],
                          v => go('health', v));
    if (!a || !b) return [el('h1', { text: 'Partnership health' }), form];
    const r = await api('/v1/partnership-health', { partner_a: a, partner_b: b });
    const links = l => [
      (l.dealIds || []).map(id => el('a', { class: 'chip', href: href('deal', { id }), text: 'deal ' + id })),
      (l.agreementIds || []).map(id => el('a', { class: 'chip', href: href('satisfaction', { agreement: id }), text: 'agreement ' + id })),
      (l.conflictIds || []).map(id => el('a', { class: 'chip', href: href('conflicts', {}), text: 'conflict ' + id })),
      (l.partnerIds || []).map(id => el('span', { class: 'chip', text: 'partner ' + id })),
    ];
    const rows = (r.lines || []).map(l => {
      const [n, name] = PILLARS[l.pillar] || ['', l.pillar];
      const st = shortEnum(l.status, 'HEALTH_STATUS_');
      return el('tr', { 'data-test': 'health-row', 'data-pillar': name },
        el('td', { class: 'num muted', text: n }),
        el('td', { class: 'strong', text: name }),
        el('td', {}, el('span', { class: 'badge ' + st, text: st.toUpperCase() })),
        el('td', { text: l.detail }),
        el('td', {}, links(l)));
    });
    const count = s => (r.lines || []).filter(l => l.status === s).length;
    return [
      el('h1', {}, 'Partnership health ', el('span', { class: 'pair' }, a, ' ⇄ ', b)),
      asOfBadge(r), form,
      el('div', { class: 'cards' },
        card('OK', String(count('HEALTH_STATUS_OK')), 'ok', 'ok-count'),
        card('Warnings', String(count('HEALTH_STATUS_WARN')), count('HEALTH_STATUS_WARN') ? 'warn' : '', 'warn-count'),
        card('Failing', String(count('HEALTH_STATUS_FAIL')), count('HEALTH_STATUS_FAIL') ? 'fail' : '', 'fail-count')),
      table(['', 'Pillar', 'Status', 'Detail', 'About'], rows, { test: 'health' }),
    ];
  }

  function barChart(periods, series, currency, test) {
    const W = 760, H = 260, L = 84, B = 40, T = 16;
    const max = Math.max(1, ...series.flatMap(s => s.values));
    const x0 = i => L + i * (W - L - 10) / periods.length;
    const bw = (W - L - 10) / periods.length / (series.length + 1);
    const y = v => T + (H - T - B) * (1 - v / max);
    const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'data-test': test });
    for (let k = 0; k <= 4; k++) {
      const v = max * k / 4;
      g.append(svg('line', { x1: L, x2: W - 10, y1: y(v), y2: y(v), class: 'gridline' }),
               svg('text', { x: L - 6, y: y(v) + 4, class: 'axis end', text: v.toLocaleString('en', { maximumFractionDigits: 0 }) }));
    }
    periods.forEach((p, i) => {
      series.forEach((s, j) => {
        const v = s.values[i];
        g.append(svg('rect', { x: x0(i) + bw * (j + 0.5), y: y(v), width: bw, height: Math.max(0, y(0) - y(v)),
                               class: 'bar ' + s.cls }, svg('title', { text: `${s.name} ${p}: ${v.toLocaleString('en')} ${currency}` })));
      });
      g.append(svg('text', { x: x0(i) + (W - L - 10) / periods.length / 2, y: H - B + 16, class: 'axis mid', text: p.slice(2) }));
    });
    return el('figure', {}, g, el('figcaption', {}, series.map(s => el('span', { class: 'key ' + s.cls, text: s.name })), ' · ' + currency));
  }
  function lineChart(periods, values, currency, test) {
    const W = 760, H = 220, L = 84, B = 40, T = 16;
    const max = Math.max(1, ...values), min = Math.min(0, ...values);
    const step = (W - L - 34) / Math.max(1, periods.length - 1);
    const x = i => L + i * step;
    const y = v => T + (H - T - B) * (1 - (v - min) / (max - min));
    const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'data-test': test });
    for (let k = 0; k <= 4; k++) {
      const v = min + (max - min) * k / 4;
      g.append(svg('line', { x1: L, x2: W - 10, y1: y(v), y2: y(v), class: 'gridline' }),
               svg('text', { x: L - 6, y: y(v) + 4, class: 'axis end', text: v.toLocaleString('en', { maximumFractionDigits: 0 }) }));
    }
    g.append(svg('polyline', { points: values.map((v, i) => `${x(i)},${y(v)}`).join(' '), class: 'line' }));
    values.forEach((v, i) => {
      g.append(svg('circle', { cx: x(i), cy: y(v), r: 3.5, class: 'dot' }, svg('title', { text: `${periods[i]}: ${v.toLocaleString('en')} ${currency}` })));
      g.append(svg('text', { x: x(i), y: H - B + 16, class: 'axis mid', text: periods[i].slice(2) }));
    });
    return el('figure', {}, g, el('figcaption', {}, el('span', { class: 'key line', text: 'Outstanding at month end' }), ' · ' + currency));
  }

  async function chartsPage(params) {
    let q = { payer: params.get('payer'), payee: params.get('payee'), currency: params.get('currency') };
    if (!q.payer || !q.payee || !q.currency) {
      const p = await firstPair();
      if (p) q = p;
    }
    const form = controls([
      { name: 'payer', label: 'Payer', value: q.payer }, { name: 'payee', label: 'Payee', value: q.payee },
      { name: 'currency', label: 'Currency', value: q.currency, size: 4 },
      { name: 'from', label: 'From', value: params.get('from'), type: 'month' },
      { name: 'to', label: 'To', value: params.get('to'), type: 'month' }], v => go('charts', v));
    if (!q.payer) return [el('h1', { text: 'Charts' }), form, el('p', { text: 'No obligations yet.' })];
    let from = params.get('from'), to = params.get('to');
    if (!from || !to) {
      const months = await activeMonths(q);
      const last = months.length ? months[months.length - 1] : anchorMonth();
      const first = months.length ? months[0] : monthAdd(last, -5);
      to = to || monthAdd(last, 1);
      from = from || monthAdd(first, -1);
    }
    const periods = [];
    for (let p = from; p <= to && periods.length < 36; p = monthAdd(p, 1)) periods.push(p);
    const st = await statements(q, periods);
    const c = q.currency;
    const accrued = st.map(s => toNumber(String(BigInt(s.accruedMinor) - BigInt(s.reversedMinor)), c));
    const settled = st.map(s => toNumber(s.settledMinor, c));
    const closing = st.map(s => toNumber(s.closingMinor, c));
    return [
      el('h1', {}, 'Charts ', el('span', { class: 'pair' }, q.payer, ' → ', q.payee), ' · ', c),
      asOfBadge(st[st.length - 1] || {}), form,
      el('h2', { text: 'Accrued (net of reversals) vs settled, per month' }),
      barChart(periods, [{ name: 'Accrued', cls: 'accrued', values: accrued }, { name: 'Settled', cls: 'settled', values: settled }], c, 'chart-monthly'),
      el('h2', { text: 'Outstanding over time' }),
      lineChart(periods, closing, c, 'chart-outstanding'),
    ];
  }

  async function dealPage(params) {
    const id = params.get('id') || '';
    const d = await api('/v1/deals/' + encodeURIComponent(id), {}, { tmpl: '/v1/deals/{deal_id}' });
    const c = d.currency;
    return [
      el('h1', {}, 'Deal ', d.dealId),
      asOfBadge(d),
      factList([
        ['Agreement', el('a', { href: href('satisfaction', { agreement: d.agreementId }), text: d.agreementId })],
        ['Originator → provider', d.originator + ' → ' + d.provider], ['Prime', d.prime],
        ['Customer', (d.customer || {}).name || ''], ['Class', shortEnum(d.offeringClass, 'OFFERING_CLASS_')],
        ['Status', shortEnum(d.status, 'DEAL_STATUS_')], ['Start', d.startDate],
        ['Margin', (d.bands || []).map(b => `year ${b.fromYear}+: ${(b.rateBp / 100).toFixed(2)}%`).join(', ') + ' (' + shortEnum(d.marginSource, 'MARGIN_SOURCE_') + ')'],
        ['Obligation', `${d.payer} → ${d.payee} ${shortEnum(d.kind, 'OBLIGATION_KIND_')} ${major(d.obligationMinor, c)} ${c}`],
        ['Disclosed to customer', d.disclosedToCustomer ? 'yes' : 'no'],
        ['Open conflicts', String(d.conflictsOpen || 0)], ['Statements of work', String(d.statementsOfWork || 0)]]),
      el('h2', { text: 'Revenue lines' }),
      table(['Revenue line', 'Booked on', 'Service from', '#Year', '#Rate', '#Booked', '#Reversed', '#Margin', '#Obligation'],
        (d.lines || []).map(l => el('tr', {},
          el('td', { text: l.revenueId }), el('td', { text: l.bookedOn }), el('td', { text: l.servicePeriodStart }),
          el('td', { class: 'num', text: l.contractYear }), el('td', { class: 'num', text: (l.rateBp / 100).toFixed(2) + '%' }),
          money(l.bookedMinor, c), money(l.reversedMinor, c), money(l.marginMinor, c), money(l.obligationMinor, c)))),
    ];
  }
  function factList(pairs) {
    return el('dl', { class: 'facts' }, pairs.map(([k, v]) => [el('dt', { text: k }), el('dd', {}, v)]));
  }

  async function satisfactionPage(params) {
    const id = params.get('agreement') || '';
    const r = await api('/v1/agreements/' + encodeURIComponent(id) + '/satisfaction', {}, { tmpl: '/v1/agreements/{agreement_id}/satisfaction' });
    return [
      el('h1', { text: 'Satisfaction · agreement ' + id }), asOfBadge(r),
      table(['Period', 'Subject', '#Responses', '#Average', '#Min', '#Max'], (r.points || []).map(p => el('tr', {},
        el('td', { text: p.period }), el('td', { text: shortEnum(p.subject, 'SATISFACTION_SUBJECT_') }),
        el('td', { class: 'num', text: p.responses }), el('td', { class: 'num', text: (p.averageCenti / 100).toFixed(2) }),
        el('td', { class: 'num', text: p.min }), el('td', { class: 'num', text: p.max }))), { empty: 'No scores recorded.' }),
    ];
  }

  async function eventPage(params) {
    const pos = params.get('position') || '1';
    const r = await api('/v1/events', { from_position: pos, max_count: 1 }, { noAsOf: true });
    const e = (r.events || [])[0];
    return [
      el('h1', { text: 'Event #' + pos }),
      e ? el('pre', { class: 'json', 'data-test': 'event' }, JSON.stringify(e, null, 2)) : el('p', { text: 'No such event.' }),
    ];
  }

  const RENDER = {
    obligations: obligationsPage, statement: statementPage, referral: referralPage,
    conflicts: conflictsPage, health: healthPage, charts: chartsPage,
    deal: dealPage, satisfaction: satisfactionPage, event: eventPage,
  };

  // ---- chrome: nav, as-of bar, login -------------------------------------
  function renderNav(page) {
    const nav = document.getElementById('nav');
    nav.replaceChildren(...PAGES.map(([p, t]) =>
      el('a', { href: href(p, {}), class: p === page ? 'on' : '', 'data-page': p, text: t })));
  }
  function renderAsOf() {
    const { params } = route();
    document.getElementById('asof-date').value = params.get('date') || '';
    document.getElementById('asof-at').value = params.get('at') || '';
    document.getElementById('asof-time').value = params.get('time') || '';
    const dateInput = document.getElementById('asof-date');
    const supported = Object.keys(dateParams).length > 0;
    dateInput.disabled = !supported;
    dateInput.title = supported ? 'Owed as of this business date (booking and statement dates)'
                                : 'This server does not take a business date';
    const note = [];
    if (params.get('date')) note.push('business date ' + params.get('date'));
    if (params.get('at')) note.push('as known at position ' + params.get('at'));
    else if (params.get('time')) note.push('as known at ' + params.get('time') + ' UTC');
    document.getElementById('asof-note').textContent = note.length ? 'Viewing ' + note.join(', ') : 'Viewing now';
    document.getElementById('asof').classList.toggle('past', note.length > 0);
  }
  function setAsOf(values) {
    const { page, params } = route();
    for (const [k, v] of Object.entries(values)) {
      if (v) params.set(k, v); else params.delete(k);
    }
    const s = params.toString();
    location.hash = '#/' + page + (s ? '?' + s : '');
  }
  function renderLogin() {
    const form = document.getElementById('login');
    if (token()) {
      form.replaceChildren(el('span', { class: 'who', text: 'token set (this tab only)' }),
        el('button', { type: 'button', class: 'quiet', id: 'logout', text: 'Forget token',
                       onclick: () => { sessionStorage.removeItem(TOKEN_KEY); renderLogin(); render(); } }));
    } else {
      const input = el('input', { type: 'password', id: 'token', placeholder: 'paste a bearer token', size: 22 });
      form.replaceChildren(input, el('button', { type: 'submit', id: 'use-token', text: 'Use token' }));
    }
  }
  document.getElementById('login').addEventListener('submit', ev => {
    ev.preventDefault();
    const t = document.getElementById('token');
    if (t && t.value.trim()) sessionStorage.setItem(TOKEN_KEY, t.value.trim());
    renderLogin();
    render();
  });
  document.getElementById('asof').addEventListener('submit', ev => {
    ev.preventDefault();
    const at = document.getElementById('asof-at').value.trim();
    setAsOf({ date: document.getElementById('asof-date').value,
              at, time: at ? '' : document.getElementById('asof-time').value });
  });
  document.getElementById('asof-now').addEventListener('click', () => setAsOf({ date: '', at: '', time: '' }));

  async function render() {
    const seq = ++renderSeq;
    const { page, params } = route();
    renderNav(page);
    renderAsOf();
    const fn = RENDER[page] || obligationsPage;
    main.setAttribute('aria-busy', 'true');
    let content;
    try {
      content = await fn(params);
    } catch (e) {
      content = [el('h1', { text: (PAGES.find(p => p[0] === page) || [page, page])[1] }), errorBox(e)];
    }
    if (seq !== renderSeq || content === null) return;
    main.replaceChildren(...[content].flat(3).filter(Boolean));
    main.setAttribute('aria-busy', 'false');
    main.dataset.page = page;
    main.dataset.ready = String(seq);
  }

  // The server's currency exponents and which request takes a business date
  // (from the OpenAPI document: a field named like as_of_date).
  async function boot() {
    try {
      exponents = await (await fetch('/console/currencies.json')).json();
    } catch (e) { exponents = {}; }
    try {
      const doc = await (await fetch('/v1/openapi.json')).json();
      for (const [path, item] of Object.entries(doc.paths || {})) {
        for (const p of ((item.get || {}).parameters || [])) {
          if (p.in === 'query' && /^as_?of[._]?date$/i.test(p.name)) dateParams[path] = p.name;
        }
      }
    } catch (e) { dateParams = {}; }
    renderLogin();
    window.addEventListener('hashchange', render);
    await render();
  }
  boot();
})();
