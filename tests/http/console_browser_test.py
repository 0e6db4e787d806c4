#!/usr/bin/env python3
"""The web console in a real browser (Debian's chromium, headless, driven by
chromium-driver through python3-selenium) against a real ledgerd holding the
worked example:

- every page shows the worked example's documented figures;
- the as-of controls change them, and the URL alone reproduces a view;
- the statement's CSV download equals `ledgerctl statement --csv`;
- a partner token sees only its own rows: another pair's statement shows 403
  in the page and the API answers 403;
- no JavaScript errors in the browser's console log.

Screenshots of every page go to BUILD/console-screenshots/.

Usage: console_browser_test.py --build BUILD_DIR
Exit 0 when every check passed; 1 (with the failures listed) otherwise.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, 'tools', 'ledgerctl', 'examples', 'worked-example.jsonl')
TOKENS = {  # token -> principal and roles
    'tok-console-finance-0123456789': 'finance-desk finance,writer,auditor',
    'tok-console-partner-c-0123456789': 'portal-c partner:C',
    'tok-console-partner-z-0123456789': 'portal-z partner:Z',
}
FIN, PC, PZ = list(TOKENS)
WAIT_S = 20

failures = []


def check(cond, what):
    if cond:
        print('  ok   ' + what)
    else:
        print('  FAIL ' + what)
        failures.append(what)


def wait_for(pred, what, timeout=WAIT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise TimeoutError('timed out waiting for ' + what)


class Ledgerd:
    def __init__(self, build, work):
        self.work = work
        conf = os.path.join(work, 'auth.conf')
        with open(conf, 'w') as f:
            for tok, rest in TOKENS.items():
                f.write('token %s %s\n' % (hashlib.sha256(tok.encode()).hexdigest(), rest))
        self.log_path = os.path.join(work, 'ledgerd.log')
        self.log = open(self.log_path, 'w')
        self.proc = subprocess.Popen(
            [os.path.join(build, 'ledgerd'), '--listen=127.0.0.1:0', '--http_listen=127.0.0.1:0',
             '--data_dir=' + os.path.join(work, 'data'), '--auth_config=' + conf,
             '--scrub_bytes_per_s=0', '--backup_root=' + os.path.join(work, 'backups')],
            stdout=self.log, stderr=subprocess.STDOUT)
        line = wait_for(lambda: self._serving_line(), 'ledgerd to serve')
        self.grpc = '127.0.0.1:%d' % line['port']
        self.http = 'http://127.0.0.1:%d' % line['http_port']

    def _serving_line(self):
        if self.proc.poll() is not None:
            raise RuntimeError('ledgerd exited: ' + open(self.log_path).read()[-2000:])
        with open(self.log_path) as f:
            for l in f:
                try:
                    j = json.loads(l)
                except ValueError:
                    continue
                if j.get('msg') == 'serving':
                    return j['fields']
        return None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def http_get(base, path, token):
    req = urllib.request.Request(base + path, headers={'Authorization': 'Bearer ' + token})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b'{}')


def http_post(base, path, token, body):
    req = urllib.request.Request(base + path, data=body.encode(), method='POST',
                                 headers={'Authorization': 'Bearer ' + token,
                                          'Content-Type': 'application/json'})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


class Console:
    def __init__(self, base, shots):
        o = Options()
        for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                  '--window-size=1280,900', '--hide-scrollbars', '--force-device-scale-factor=1',
                  '--lang=en-GB'):
            o.add_argument(a)
        o.binary_location = shutil.which('chromium') or '/usr/bin/chromium'
        o.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
        self.d = webdriver.Chrome(service=Service(shutil.which('chromedriver') or '/usr/bin/chromedriver'),
                                  options=o)
        self.base = base
        self.shots = shots
        self.expected_errors = 0  # network 403/401 lines the current step expects

    def ready(self):
        return self.d.execute_script(
            "const m=document.getElementById('main');"
            "return m.getAttribute('aria-busy')==='false' ? (m.dataset.ready||'') : '';")

    def open(self, hash_, fresh=False):
        before = self.ready() if not fresh else ''
        if fresh:
            self.d.get(self.base + '/' + hash_)
        else:
            self.d.execute_script('location.hash = arguments[0];', hash_)
        wait_for(lambda: self.ready() and self.ready() != before, 'page ' + hash_)
        self.settle()

    def settle(self):
        # A click may navigate twice (statement lookup); wait until the page
        # stops changing.
        last = self.ready()
        time.sleep(0.15)
        wait_for(lambda: self.ready() == last or not self.ready(), 'page to settle')
        wait_for(lambda: self.ready(), 'render')

    def texts(self, css):
        return [e.text for e in self.d.find_elements(By.CSS_SELECTOR, css)]

    def text(self, css):
        t = self.texts(css)
        return t[0] if t else None

    def shot(self, name):
        # The whole page, not only the viewport.
        h = int(self.d.execute_script('return document.documentElement.scrollHeight'))
        self.d.execute_cdp_cmd('Emulation.setDeviceMetricsOverride', {
            'width': 1280, 'height': max(720, min(h, 2400)), 'deviceScaleFactor': 1, 'mobile': False})
        self.d.save_screenshot(os.path.join(self.shots, name + '.png'))
        self.d.execute_cdp_cmd('Emulation.clearDeviceMetricsOverride', {})

    def console_errors(self):
        """SEVERE browser log lines, minus the expected HTTP error fetches."""
        out = []
        for e in self.d.get_log('browser'):
            if e['level'] != 'SEVERE':
                continue
            if re.search(r'status of (401|403)', e['message']) and self.expected_errors:
                continue
            out.append(e['message'])
        return out

    def login(self, token):
        if self.d.find_elements(By.ID, 'logout'):
            self.d.find_element(By.ID, 'logout').click()
        self.d.find_element(By.ID, 'token').send_keys(token)
        before = self.ready()
        self.d.find_element(By.ID, 'use-token').click()
        wait_for(lambda: self.ready() and self.ready() != before, 'render after login')
        self.settle()


def row_cell(c, payer, payee, currency, cls):
    return c.text('tr[data-test=obligation-row][data-payer="%s"][data-payee="%s"][data-currency="%s"] td.%s'
                  % (payer, payee, currency, cls))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', required=True)
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    shots = os.path.join(build, 'console-screenshots')
    os.makedirs(shots, exist_ok=True)
    ctl = os.path.join(build, 'tools', 'ledgerctl', 'ledgerctl')
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix='pl-console-')
    server = Ledgerd(build, work)
    console = None
    try:
        tok_file = os.path.join(work, 'token')
        with open(tok_file, 'w') as f:
            f.write(FIN)
        subprocess.run([ctl, '--server=' + server.grpc, '--token_file=' + tok_file, 'append', EXAMPLE],
                       check=True, stdout=subprocess.DEVNULL)
        http_post(server.http, '/v1/streams/partner-Z:append', FIN, json.dumps({
            'expectedState': 'EXPECTED_STATE_NO_STREAM',
            'events': [{'eventId': 'c0ffee00-0000-4000-8000-0000000000ff', 'occurredAt': '2026-01-16T12:00:00Z',
                        'payload': {'partnerRegistered': {'legalName': 'Z Trading', 'country': 'FR'}}}]}))
        status, doc = http_get(server.http, '/v1/openapi.json', FIN)
        date_param = next((p['name'] for p in doc['paths']['/v1/obligations']['get']['parameters']
                           if re.fullmatch(r'as_?of[._]?date', p['name'], re.I)), None)

        console = Console(server.http, shots)
        c = console
        print('console at %s (screenshots in %s)' % (server.http, shots))

        # Without a token the server says 401 and the page asks for one.
        c.expected_errors = 1
        c.open('#/obligations', fresh=True)
        check(c.d.find_elements(By.CSS_SELECTOR, '.error[data-http="401"]'), 'no token: the page shows 401')
        c.console_errors()
        c.login(FIN)
        c.expected_errors = 0

        # Obligations: the worked example's figures.
        check(row_cell(c, 'F', 'C', 'EUR', 'outstanding') == '22,000.00', 'obligations: F owes C EUR 22,000.00')
        check(row_cell(c, 'F', 'C', 'EUR', 'accrued') == '45,000.00', 'obligations: EUR accrued 45,000.00')
        check(row_cell(c, 'F', 'C', 'EUR', 'reversed') == '3,000.00', 'obligations: EUR reversed 3,000.00')
        check(row_cell(c, 'F', 'C', 'EUR', 'settled') == '20,000.00', 'obligations: EUR settled 20,000.00')
        check(row_cell(c, 'F', 'C', 'EUR', 'on-hold') == '0.00', 'obligations: nothing on hold')
        check(row_cell(c, 'F', 'C', 'USD', 'outstanding') == '40,000.00', 'obligations: F owes C USD 40,000.00')
        c.shot('obligations')

        # As known at position 8 (right after R1): 30,000.00 EUR, no USD yet.
        c.d.find_element(By.ID, 'asof-at').send_keys('8')
        before = c.ready()
        c.d.find_element(By.ID, 'asof-apply').click()
        wait_for(lambda: c.ready() and c.ready() != before, 'as-of render')
        c.settle()
        check('at=8' in c.d.current_url, 'as-of position is in the URL')
        check(row_cell(c, 'F', 'C', 'EUR', 'outstanding') == '30,000.00', 'as of position 8: EUR 30,000.00')
        check(row_cell(c, 'F', 'C', 'USD', 'outstanding') is None, 'as of position 8: no USD row yet')
        url = c.d.current_url
        c.open('#/conflicts')  # elsewhere, then back by the URL alone
        c.d.get('about:blank')
        c.d.get(url)
        wait_for(lambda: c.ready(), 'reload')
        c.settle()
        check(row_cell(c, 'F', 'C', 'EUR', 'outstanding') == '30,000.00', 'the URL alone reproduces the view')
        c.shot('obligations-as-of-position-8')

        if date_param:
            c.open('#/obligations?date=2026-12-31')
            check(row_cell(c, 'F', 'C', 'EUR', 'outstanding') == '30,000.00',
                  'business date 2026-12-31: EUR 30,000.00 (R1 only)')
            check(row_cell(c, 'F', 'C', 'USD', 'outstanding') == '40,000.00',
                  'business date 2026-12-31: USD 40,000.00')
            c.open('#/obligations?date=2027-02-15')
            check(row_cell(c, 'F', 'C', 'EUR', 'outstanding') == '42,000.00',
                  'business date 2027-02-15: EUR 42,000.00 (R2 and the reversal, not the settlement)')
            c.open('#/obligations?date=2027-02-15&at=8')
            check(row_cell(c, 'F', 'C', 'EUR', 'outstanding') == '30,000.00',
                  'business date 2027-02-15 as known at position 8: EUR 30,000.00')
            c.shot('obligations-business-date')
        else:
            print('  skip business-date checks: this server offers no as_of_date parameter')

        # Click a row: the statement of its last active month.
        c.open('#/obligations')
        before = c.ready()
        c.d.find_element(By.CSS_SELECTOR,
                         'tr[data-test=obligation-row][data-payer="F"][data-currency="EUR"]').click()
        wait_for(lambda: c.d.execute_script("return document.getElementById('main').dataset.page") == 'statement'
                 and c.ready() != before, 'statement')
        c.settle()
        check('period=2027-02' in c.d.current_url, 'row click opens the statement of 2027-02')
        check(c.text('[data-test=opening] .value') == '30,000.00', 'statement: opening 30,000.00')
        check(c.text('[data-test=closing] .value') == '22,000.00 EUR', 'statement: closing 22,000.00 EUR')
        lines = c.texts('tr[data-test=statement-line]')
        check(len(lines) == 3, 'statement: 3 lines (accrual, reversal, settlement)')
        amounts = c.texts('tr[data-test=statement-line] td.num:nth-child(7)')
        check(amounts == ['15,000.00', '-3,000.00', '-20,000.00'], 'statement: line amounts %s' % amounts)
        link = c.d.find_element(By.CSS_SELECTOR, '[data-test=csv]').get_attribute('href')
        prefix = 'data:text/csv;charset=utf-8,'
        check(link.startswith(prefix), 'statement: the CSV download is a text/csv document')
        csv = urllib.parse.unquote(link[len(prefix):])
        want = subprocess.run([ctl, '--server=' + server.grpc, '--token_file=' + tok_file, 'statement',
                               '--payer=F', '--payee=C', '--currency=EUR', '--period=2027-02', '--csv'],
                              check=True, capture_output=True, text=True).stdout
        check(csv == want, 'statement CSV equals ledgerctl statement --csv')
        if csv != want:
            print('--- console\n%s--- ledgerctl\n%s' % (csv, want))
        c.shot('statement')

        # Referral balance.
        c.open('#/referral?a=C&b=F')
        check(c.text('[data-test=reciprocity] .value') == '1.00', 'referral: reciprocity ratio 1.00')
        a2b = c.text('[data-test=a-to-b]') or ''
        b2a = c.text('[data-test=b-to-a]') or ''
        check('228,000.00' in a2b and '42,000.00' in a2b, 'referral: C→F EUR 228,000.00 revenue, 42,000.00 margin')
        check('50,000.00' in b2a and '10,000.00' in b2a, 'referral: F→C USD 50,000.00 revenue, 10,000.00 margin')
        check(sorted(t.split()[0] for t in c.texts('tr[data-test=deal-row]')) == ['D1', 'D2'],
              'referral: the deals behind it are D1 and D2')
        c.shot('referral')

        # Conflicts (the example has none) and health.
        c.open('#/conflicts')
        check(c.text('[data-test=open] .value') == '0', 'conflicts: 0 open')
        check(c.texts('tr[data-test=conflict-row]') == [], 'conflicts: no rows')
        c.shot('conflicts')
        c.open('#/health?a=C&b=F')
        pillars = [e.get_attribute('data-pillar') for e in c.d.find_elements(By.CSS_SELECTOR, 'tr[data-test=health-row]')]
        check(pillars == ['Margins', 'Prime partner', 'Documentation', 'Elevator pitch', 'Bi-directional',
                          'Visibility', 'Conflicts'], 'health: the seven pillars in order')
        check(len(c.d.find_elements(By.CSS_SELECTOR, 'tr[data-test=health-row] a.chip')) > 0,
              'health: lines link to the deals and agreements they name')
        c.shot('health')

        # Charts: a bar per month and series, the outstanding line ending at 22,000.
        c.open('#/charts?payer=F&payee=C&currency=EUR')
        bars = c.d.find_elements(By.CSS_SELECTOR, '[data-test=chart-monthly] rect.bar')
        check(len(bars) > 0 and len(bars) % 2 == 0, 'charts: accrued and settled bars')
        dots = c.d.find_elements(By.CSS_SELECTOR, '[data-test=chart-outstanding] circle.dot title')
        last_dots = [d.get_attribute('textContent') for d in dots]
        check(any(t.startswith('2027-02: 22,000') for t in last_dots), 'charts: outstanding 22,000 at 2027-02')
        c.shot('charts')

        check(c.console_errors() == [], 'no JavaScript errors as finance')

        # Partner view: Z sees none of C and F's rows.
        c.expected_errors = 1
        c.login(PZ)
        c.open('#/obligations')
        check(c.texts('tr[data-test=obligation-row]') == [], 'partner Z: no obligation rows')
        c.open('#/statement?payer=F&payee=C&currency=EUR&period=2027-02')
        check(c.d.find_elements(By.CSS_SELECTOR, '.error[data-http="403"]'), 'partner Z: F→C statement shows 403')
        c.shot('partner-403')
        status, _ = http_get(server.http, '/v1/statement?payer=F&payee=C&currency=EUR&period=2027-02', PZ)
        check(status == 403, 'partner Z: the API answers 403 for the F→C statement')
        status, _ = http_get(server.http, '/v1/obligations?partner_id=C', PZ)
        check(status == 403, 'partner Z: the API answers 403 for C\'s obligations')
        c.login(PC)
        c.open('#/obligations')
        check(len(c.texts('tr[data-test=obligation-row]')) == 2, 'partner C: its own two obligation rows')
        c.open('#/statement?payer=F&payee=C&currency=EUR&period=2027-02')
        check(c.text('[data-test=closing] .value') == '22,000.00 EUR', 'partner C: its statement, closing 22,000.00')
        errors = c.console_errors()
        check(errors == [], 'no JavaScript errors in the partner view %s' % errors)
    finally:
        if console:
            console.d.quit()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print('browser checks: %d failed, %.1f s' % (len(failures), time.monotonic() - started))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
