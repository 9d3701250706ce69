"""Floe's web console in a real browser: Debian's headless Chromium driven by Selenium, one session walking the console.

Run it through tests/browser/run.sh (which makes the venv). It starts its own `floe serve` (FLOE_BIN) on a free port
with a temporary data directory and generated bootstrap credentials (tests/compat/floe_harness.py), drives the
console at http://127.0.0.1:PORT/ and cross-checks what the pages did through the REST API (urllib) and curl.

Every check prints PASS/FAIL with its name; the last line is `N passed, M failed`; the exit status is 1 on any failure.
A screenshot of each page visited lands in $BROWSER_SCREENSHOTS (default <repo>/artifacts/browser) as NN-name.png;
a failed check adds NN-FAIL-name.png and NN-FAIL-name.html (the page source) there.

Environment:
  FLOE_BIN               the floe binary (default <repo>/.build/debug/floe)
  BROWSER_CHROMIUM       default /usr/bin/chromium
  BROWSER_CHROMEDRIVER   default /usr/bin/chromedriver
  BROWSER_SCREENSHOTS    where screenshots go
  BROWSER_ONLY=a,b       run only the checks whose names start with one of these prefixes (the flow still needs
                         its earlier steps, so this is mainly for `BROWSER_ONLY=1,2` style cut-offs)
  BROWSER_TRACE=1        print a traceback for every failed check
  BROWSER_HEADFUL=1      show the browser window (needs a display)
  COMPAT_KEEP=1          keep the server's temporary data directory and log
"""
from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tests" / "compat"))

from floe_harness import CheckFailed, FloeServer, check, exit_on_signals, free_port, start_or_exit  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import (  # noqa: E402
    ElementClickInterceptedException,
    ElementNotInteractableException,
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

CHROMIUM = os.environ.get("BROWSER_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BROWSER_CHROMEDRIVER", "/usr/bin/chromedriver")
SHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS") or (REPO / "artifacts" / "browser"))

BOUNDED_SQL = "SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) AS t(id, name)"
UNBOUNDED_SQL = "SELECT order_id, price FROM examples.marketplace.orders"
# A bounded aggregation whose changelog retracts and re-adds rows (-U/+U): the table must show only the final counts.
CHANGELOG_SQL = ("SELECT name, COUNT(*) AS n FROM (VALUES ('a'), ('b'), ('a'), ('c'), ('a'), ('b')) AS t(name) "
                 "GROUP BY name")

RETRYABLE = (StaleElementReferenceException, NoSuchElementException)


def _navigating(error: WebDriverException) -> bool:
    """chromedriver's answers about an element of a document that a navigation is replacing (not always 'stale')."""
    text = str(error)
    return ("does not belong to the document" in text or "No node with given id" in text
            or "Cannot find context with specified id" in text or "Execution context was destroyed" in text)


class NeedsEarlierStep(CheckFailed):
    """A check could not run because an earlier one did not produce what it needs."""


# --------------------------------------------------------------------------------------------------------- plumbing


class Api:
    """The REST API with Basic auth (stdlib only), to cross-check what the console did."""

    def __init__(self, base_url: str, key: str, secret: str):
        self.base_url = base_url
        self.auth = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()

    def call(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, method=method, data=data)
        req.add_header("Authorization", self.auth)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")

    def ok(self, method: str, path: str, body: object = None, expect: tuple[int, ...] = (200, 201, 202)) -> dict:
        status, doc = self.call(method, path, body)
        check(status in expect, f"{method} {path}: HTTP {status} (wanted {expect}): {str(doc)[:300]}")
        return doc

    def list_all(self, path: str) -> list[dict]:
        sep = "&" if "?" in path else "?"
        doc = self.ok("GET", f"{path}{sep}page_size=100")
        items = list(doc.get("data") or [])
        next_url = (doc.get("metadata") or {}).get("next")
        while next_url:
            parsed = urllib.parse.urlsplit(next_url)
            doc = self.ok("GET", parsed.path + ("?" + parsed.query if parsed.query else ""))
            items += doc.get("data") or []
            next_url = (doc.get("metadata") or {}).get("next")
        return items


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output readable
        pass


def static_server(directory: str) -> tuple[http.server.ThreadingHTTPServer, int]:
    """A python http.server on a free 127.0.0.1 port serving `directory`, in a daemon thread."""
    for _ in range(5):
        port = free_port()
        try:
            srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(QuietHandler, directory=directory))
        except OSError:
            continue
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        return srv, port
    raise RuntimeError("no free port for the attacker page server")


def make_driver(download_dir: str) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # explicit paths: Selenium Manager never downloads a browser or a driver
    if os.environ.get("BROWSER_HEADFUL") != "1":
        options.add_argument("--headless=new")
    for arg in ("--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--password-store=basic"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {
        "download.default_directory": download_dir,
        "download.prompt_for_download": False,
        "download.directory_upgrade": True,
        "credentials_enable_service": False,
        "profile.password_manager_enabled": False,
    })
    # A confirm() on a delete button is accepted, as a user would.
    options.unhandled_prompt_behavior = "accept"
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    # Headless Chromium may ignore the download prefs; this makes downloads land in download_dir regardless.
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": download_dir})
    driver.set_page_load_timeout(30)
    return driver


# ---------------------------------------------------------------------------------------------------------- browser


class Console:
    """The browser session plus small helpers for the console's pages."""

    def __init__(self, driver: webdriver.Chrome, base_url: str, download_dir: str):
        self.d = driver
        self.base = base_url
        self.download_dir = download_dir
        self.shot_no = 0
        self.csrf_problems: list[str] = []
        self.forms_audited = 0

    # -- navigation
    def get(self, path: str) -> None:
        self.d.get(self.base + path)
        self.wait_ready()

    def path(self) -> str:
        return urllib.parse.urlsplit(self.d.current_url).path

    def url_summary(self) -> str:
        return self.d.current_url.replace(self.base, "")

    def wait_ready(self, timeout: float = 15) -> None:
        WebDriverWait(self.d, timeout).until(lambda d: d.execute_script("return document.readyState") == "complete")

    def wait(self, condition, timeout: float = 10, message: str = "condition"):
        """Polls condition(); stale/missing elements (and CheckFailed from css()) count as 'not yet'.
        Raises CheckFailed with the last reason and the page state."""
        last: list[str] = []

        def attempt(_d):
            try:
                return condition()
            except CheckFailed as e:
                last[:] = [str(e).split("; at ")[0]]
                return False
            except WebDriverException as e:
                if _navigating(e) and not isinstance(e, TimeoutException):
                    return False
                raise
        try:
            return WebDriverWait(self.d, timeout, poll_frequency=0.2, ignored_exceptions=RETRYABLE).until(attempt)
        except TimeoutException:
            why = f" (last: {last[0]})" if last else ""
            raise CheckFailed(f"timed out after {timeout:.0f}s waiting for {message}{why}; {self.page_state()}") from None

    def wait_path(self, wanted: str | re.Pattern, timeout: float = 15) -> None:
        def at() -> bool:
            p = self.path()
            return (wanted.fullmatch(p) is not None) if isinstance(wanted, re.Pattern) else p == wanted
        shown = wanted.pattern if isinstance(wanted, re.Pattern) else wanted
        self.wait(at, timeout, f"the path {shown}")
        self.wait_ready()

    def page_state(self) -> str:
        """A one-line description of where the browser is (for failure messages)."""
        parts = [f"at {self.url_summary()!r}"]
        try:
            parts.append(f"title {self.d.title!r}")
            for sel in ("#error-status", "#error-detail", ".flash-error", ".flash-notice", "#workspace-error"):
                els = self.d.find_elements(By.CSS_SELECTOR, sel)
                if els:
                    parts.append(f"{sel} {' | '.join(e.text.strip() for e in els)[:200]!r}")
        except WebDriverException:
            pass
        return ", ".join(parts)

    # -- elements
    def css(self, selector: str, root: WebElement | None = None) -> WebElement:
        try:
            return (root or self.d).find_element(By.CSS_SELECTOR, selector)
        except NoSuchElementException:
            raise CheckFailed(f"no element {selector!r}; {self.page_state()}") from None

    def css_all(self, selector: str, root: WebElement | None = None) -> list[WebElement]:
        return (root or self.d).find_elements(By.CSS_SELECTOR, selector)

    def present(self, selector: str) -> bool:
        return bool(self.d.find_elements(By.CSS_SELECTOR, selector))

    def wait_css(self, selector: str, timeout: float = 10) -> WebElement:
        return self.wait(lambda: self.d.find_element(By.CSS_SELECTOR, selector), timeout, f"{selector!r}")

    def text(self, selector: str) -> str:
        return self.css(selector).text.strip()

    def fill(self, el: WebElement, value: str) -> None:
        el.clear()
        if value:
            el.send_keys(value)
        got = el.get_attribute("value")
        check(got == value, f"typed {value!r} into {el.get_attribute('name') or el.get_attribute('id')!r}, "
                            f"it holds {got!r}")

    def fill_css(self, selector: str, value: str, root: WebElement | None = None) -> None:
        self.fill(self.css(selector, root), value)

    def click(self, el: WebElement) -> None:
        """Clicks like a user; a visually hidden radio/checkbox is clicked through its label."""
        try:
            el.click()
        except (ElementNotInteractableException, ElementClickInterceptedException):
            label = self.d.execute_script(
                "const e = arguments[0];"
                "return (e.id && document.querySelector('label[for=\"' + CSS.escape(e.id) + '\"]')) || e.closest('label');",
                el)
            if label is None:
                raise
            label.click()

    def follow(self, link: WebElement, what: str, timeout: float = 15) -> None:
        """Clicks a link and waits until the browser has left the current page."""
        old = self.d.find_element(By.TAG_NAME, "html")
        self.click(link)
        self.wait(lambda: self._stale(old), timeout, what)

    def choose_radio(self, name: str, value: str, root: WebElement | None = None) -> None:
        radio = self.css(f'input[type=radio][name="{name}"][value="{value}"]', root)
        self.click(radio)
        check(radio.is_selected(), f"radio {name}={value} is not selected after clicking it")

    def select(self, el: WebElement, value: str, text_contains: str | None = None) -> None:
        """Selects the option with this value, else (if given) the first whose text contains text_contains."""
        sel = Select(el)
        values = [o.get_attribute("value") for o in sel.options]
        if value in values:
            sel.select_by_value(value)
        else:
            match = None
            if text_contains is not None:
                match = next((o for o in sel.options if text_contains.lower() in o.text.lower()), None)
            check(match is not None, f"select {el.get_attribute('name') or el.get_attribute('id')!r} has no option "
                                     f"{value!r}; options: {values}")
            sel.select_by_visible_text(match.text)

    def submit_with(self, button: WebElement, timeout: float = 20) -> None:
        """Clicks a submit button and waits until the next page has loaded."""
        old = self.d.find_element(By.TAG_NAME, "html")
        self.click(button)
        try:
            WebDriverWait(self.d, timeout, poll_frequency=0.1).until(lambda _d: self._stale(old))
        except TimeoutException:
            raise CheckFailed(f"clicking {button.get_attribute('id') or button.text!r} loaded no new page "
                              f"within {timeout:.0f}s; {self.page_state()}") from None
        self.wait_ready()

    @staticmethod
    def _stale(el: WebElement) -> bool:
        try:
            el.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            if _navigating(e):
                return False  # the old document is being torn down: ask again, the next answer is a clean 'stale'
            raise

    def rows(self, table_selector: str) -> list[list[str]]:
        """The td texts of each tbody row, read in one script call (live tables are rewritten under us)."""
        return self.d.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0] + ' tbody tr'))"
            ".map(tr => Array.from(tr.querySelectorAll('td')).map(td => td.innerText.trim()));", table_selector)

    def headers(self, table_selector: str) -> list[str]:
        return self.d.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0] + ' th')).map(th => th.innerText.trim());",
            table_selector)

    def error_status(self) -> str | None:
        els = self.d.find_elements(By.CSS_SELECTOR, "#error-status")
        return els[0].text.strip() if els else None

    # -- artifacts and audits
    def shot(self, name: str) -> None:
        self.shot_no += 1
        self.d.save_screenshot(str(SHOTS / f"{self.shot_no:02d}-{name}.png"))

    def save_failure(self, name: str) -> None:
        self.shot_no += 1
        stem = f"{self.shot_no:02d}-FAIL-{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}"
        try:
            self.d.save_screenshot(str(SHOTS / f"{stem}.png"))
            (SHOTS / f"{stem}.html").write_text(f"<!-- {self.d.current_url} -->\n" + self.d.page_source)
        except WebDriverException:
            pass

    def audit_forms(self, page: str) -> None:
        """Every POST form must carry a non-empty hidden _csrf input (collected, reported by one check at the end)."""
        forms = self.d.execute_script("""
            return Array.from(document.forms).map(f => {
              const t = f.querySelector('input[name="_csrf"]');
              return {id: f.id || f.className || f.action, method: (f.getAttribute('method') || 'get').toLowerCase(),
                      hidden: !!t && t.type === 'hidden', value: t ? t.value : null};
            });""")
        for f in forms:
            if f["method"] != "post":
                continue
            self.forms_audited += 1
            if not f["hidden"] or not f["value"]:
                self.csrf_problems.append(f"{page}: form {f['id']!r} has "
                                          + ("no hidden _csrf input" if not f["hidden"] else "an empty _csrf"))

    # -- downloads
    def clear_downloads(self) -> None:
        for entry in os.listdir(self.download_dir):
            os.unlink(os.path.join(self.download_dir, entry))

    def wait_download(self, filename: str, timeout: float = 15) -> Path:
        path = Path(self.download_dir) / filename

        def done() -> bool:
            names = os.listdir(self.download_dir)
            return path.exists() and not any(n.endswith(".crdownload") for n in names)
        try:
            WebDriverWait(self.d, timeout, poll_frequency=0.1).until(lambda _d: done())
        except TimeoutException:
            raise CheckFailed(f"no download {filename!r} within {timeout:.0f}s; download dir holds "
                              f"{os.listdir(self.download_dir)}") from None
        return path


class Runner:
    """Named checks: one PASS/FAIL line each, failures saved as screenshot + page source, `N passed, M failed`."""

    def __init__(self, console: Console):
        self.c = console
        self.passed = self.failed = 0
        self.only = [s for s in os.environ.get("BROWSER_ONLY", "").split(",") if s]

    def run(self, name: str, fn) -> bool:
        if self.only and not any(name.startswith(p) for p in self.only):
            return False
        start = time.monotonic()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - every exception is a failed check
            self.failed += 1
            msg = str(e) if isinstance(e, CheckFailed) else f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
            print(f"FAIL {name}: {msg}", flush=True)
            if os.environ.get("BROWSER_TRACE") == "1":
                traceback.print_exc()
            if not isinstance(e, NeedsEarlierStep):
                self.c.save_failure(name)
            return False
        self.passed += 1
        print(f"PASS {name} ({time.monotonic() - start:.1f}s)", flush=True)
        return True


# ------------------------------------------------------------------------------------------------------------ suite


class ConsoleSuite:
    def __init__(self, server: FloeServer, console: Console):
        self.server = server
        self.c = console
        self.b = server.bootstrap()
        self.env = self.b.environment_id
        self.org = self.b.organization_id
        self.port = server.port
        self.admin = Api(server.base_url, self.b.api_key, self.b.api_secret)
        self.state: dict[str, object] = {}
        self.attack_dir = tempfile.mkdtemp(prefix="floe-browser-attacker-")
        self.attack_server, self.attack_port = static_server(self.attack_dir)

    def close(self) -> None:
        self.attack_server.shutdown()
        shutil.rmtree(self.attack_dir, ignore_errors=True)

    def need(self, key: str):
        if key not in self.state:
            raise NeedsEarlierStep(f"needs {key} from an earlier check, which failed")
        return self.state[key]

    # paths
    @property
    def env_base(self) -> str:
        return f"/environments/{self.env}/flink"

    def pools_path(self) -> str:
        return f"{self.env_base}/compute-pools"

    def statements_api(self) -> str:
        return f"/sql/v1/organizations/{self.org}/environments/{self.env}/statements"

    # ----------------------------------------------------------------------------------------------- 1 sign in
    def sign_in(self, key: str, secret: str, expect_path: str | None = "/environments") -> None:
        c = self.c
        c.get("/login")
        check(c.path() == "/login", f"GET /login ended at {c.url_summary()!r}")
        form = c.css("form#login-form")
        c.fill_css("input#key", key, form)
        c.fill_css("input#secret", secret, form)
        c.submit_with(c.css("button#sign-in", form))
        if expect_path:
            c.wait_path(expect_path)

    def t1_login_page(self) -> None:
        c = self.c
        c.get("/login")
        check(c.path() == "/login", f"GET /login ended at {c.url_summary()!r} ({c.page_state()})")
        form = c.css("form#login-form")
        check(c.css("input#key", form).get_attribute("name") == "key", "input#key is not name=key")
        secret = c.css("input#secret", form)
        check(secret.get_attribute("name") == "secret", "input#secret is not name=secret")
        check(secret.get_attribute("type") == "password", f"input#secret has type {secret.get_attribute('type')!r}")
        c.css("button#sign-in", form)
        c.audit_forms("login")
        c.shot("login")

    def t1_login_wrong_secret(self) -> None:
        c = self.c
        c.get("/login")
        form = c.css("form#login-form")
        c.fill_css("input#key", self.b.api_key, form)
        c.fill_css("input#secret", "not-the-secret-" + secrets.token_hex(8), form)
        c.submit_with(c.css("button#sign-in", form))
        c.wait_css(".flash-error")
        check(c.path() == "/login", f"a wrong secret ended at {c.url_summary()!r}")
        check(c.text(".flash-error"), ".flash-error is empty")
        check(not c.present("span#principal"), "a wrong secret shows a signed-in header (span#principal)")
        c.audit_forms("login (wrong secret)")
        c.shot("login-wrong-secret")

    def t1_login_admin(self) -> None:
        c = self.c
        self.sign_in(self.b.api_key, self.b.api_secret)
        c.wait_css("table#environments")
        user = self.admin.ok("GET", f"/iam/v2/users/{self.b.user_id}")
        principal = c.text("span#principal")
        names = [self.b.user_id, user.get("full_name"), user.get("email")]
        check(any(n and n in principal for n in names),
              f"span#principal says {principal!r}, expected one of {names}")
        c.css("form#sign-out button#sign-out-button")
        row = c.css(f'table#environments tr[data-id="{self.env}"]')
        link = c.css("a.environment-link", row)
        check(urllib.parse.urlsplit(link.get_attribute("href")).path == f"/environments/{self.env}",
              f"the default environment's link goes to {link.get_attribute('href')!r}")
        check("default" in row.text, f"the default environment's row does not say 'default': {row.text!r}")
        c.audit_forms("environments")
        c.shot("environments")

    # ------------------------------------------------------------------------------------------- 2 environments
    def t2_create_environment(self) -> None:
        c = self.c
        c.get("/environments")
        form = c.css("form#create-environment")
        c.fill_css("input[name=display_name]", "browser-env", form)
        c.submit_with(c.css("button#create-environment-button", form))
        c.wait_path("/environments")
        envs = {e["display_name"]: e["id"] for e in self.admin.list_all("/org/v2/environments")}
        check("browser-env" in envs, f"the API lists no browser-env: {sorted(envs)}")
        row = c.wait_css(f'table#environments tr[data-id="{envs["browser-env"]}"]')
        check("browser-env" in row.text, f"the new row does not show its name: {row.text!r}")
        self.state["browser_env"] = envs["browser-env"]
        c.shot("environment-created")

    def t2_open_default_environment(self) -> None:
        c = self.c
        c.get("/environments")
        row = c.css(f'table#environments tr[data-id="{self.env}"]')
        c.follow(c.css("a.environment-link", row), "the environment page")
        c.wait_path(self.pools_path())
        for tab in ("compute-pools", "statements", "api-keys", "workspace", "kafka-clusters"):
            c.css(f"a#tab-{tab}")
        c.css("table#compute-pools")
        c.css("a#create-pool-link")
        c.audit_forms("compute pools")
        c.shot("compute-pools")

    # ------------------------------------------------------------------------------------------ 2b Kafka clusters
    def t2_kafka_clusters_tab(self) -> None:
        """A cluster attached to brokers that do not answer (nothing listens on 127.0.0.1:1) is listed FAILED with the
        reason; the tab shows no topics for it and never the SASL password."""
        c = self.c
        password = "browser-kafka-" + secrets.token_hex(8)
        cluster = self.admin.ok("POST", "/cmk/v2/clusters", {"spec": {
            "display_name": "browser-kafka", "availability": "SINGLE_ZONE", "cloud": "AWS", "region": "us-east-1",
            "config": {"kind": "Basic"}, "environment": {"id": self.env}, "kafka_bootstrap_endpoint": "127.0.0.1:1",
            "credentials": {"mechanism": "PLAIN", "username": "floe", "password": password}}})
        path = f"/environments/{self.env}/kafka/clusters"
        c.get(path)
        c.wait_path(path)
        c.css("a#tab-kafka-clusters")
        row_selector = f'table#kafka-clusters tr[data-id="{cluster["id"]}"]'

        def failed() -> bool:
            if not c.present(row_selector):
                return False
            if "FAILED" in c.css("td.phase", c.css(row_selector)).text:
                return True
            c.get(path)
            return False

        c.wait(failed, 30, f"the row of {cluster['id']} showing FAILED")
        row = c.css(row_selector)
        check(c.css("td.name", row).text.strip() == "browser-kafka", f"the row's name: {row.text!r}")
        check("127.0.0.1:1" in c.css("code.bootstrap", row).text, f"the row's bootstrap servers: {row.text!r}")
        check(c.css("td.phase .detail", row).text.strip(), "a FAILED cluster shows no reason")
        check(not c.present(f'section.kafka-topics[data-cluster="{cluster["id"]}"]'), "topics shown for a FAILED cluster")
        check(password not in c.d.page_source, "the SASL password is on the page")
        c.shot("kafka-clusters")
        self.admin.ok("DELETE", f"/cmk/v2/clusters/{cluster['id']}?environment={self.env}", expect=(204,))

    # ------------------------------------------------------------------------------------------- 3 compute pools
    def pool_row(self, pool_id: str) -> WebElement:
        return self.c.d.find_element(By.CSS_SELECTOR, f'table#compute-pools tr[data-id="{pool_id}"]')

    def t3_create_pool(self) -> None:
        c = self.c
        c.get(self.pools_path())
        c.follow(c.css("a#create-pool-link"), "the create-pool page")
        c.wait_path(f"{self.pools_path()}/new")
        form = c.css("form#create-pool")
        c.fill_css("input[name=display_name]", "browser-pool", form)
        c.select(c.css("select[name=region]", form), "aws/us-east-1")
        c.fill_css("input[name=max_cfu]", "10", form)
        c.audit_forms("create pool")
        c.shot("create-pool")
        c.submit_with(c.css("button#create-pool-button", form))
        c.wait_path(self.pools_path())
        pools = [p for p in self.admin.list_all(f"/fcpm/v2/compute-pools?environment={self.env}")
                 if p["spec"]["display_name"] == "browser-pool"]
        check(len(pools) == 1, f"the API lists {len(pools)} pools named browser-pool")
        pool = pools[0]
        spec = pool["spec"]
        check((spec.get("cloud"), spec.get("region"), spec.get("max_cfu")) == ("AWS", "us-east-1", 10),
              f"the pool's spec is cloud={spec.get('cloud')} region={spec.get('region')} max_cfu={spec.get('max_cfu')}")
        self.state["pool_id"] = pool["id"]
        c.wait(lambda: c.css("td.name", self.pool_row(pool["id"])).text.strip() == "browser-pool", 10,
               f"the row of {pool['id']} with td.name browser-pool")
        c.shot("pool-created")

    def t3_pool_provisioned(self) -> None:
        c = self.c
        pool_id = self.need("pool_id")
        # No reload of our own: the list page reloads itself every 2 s while a pool is PROVISIONING.
        c.wait(lambda: c.css("td.phase", self.pool_row(pool_id)).text.strip() == "PROVISIONED", 30,
               "td.phase PROVISIONED (the page reloads itself while PROVISIONING)")
        cfu = c.css("td.cfu", self.pool_row(pool_id)).text.strip()
        check(re.fullmatch(r"\d+\s*/\s*10", cfu), f"td.cfu is {cfu!r}, expected 'N / 10'")
        c.shot("pool-provisioned")

    def t3_edit_pool(self) -> None:
        c = self.c
        pool_id = self.need("pool_id")
        c.get(self.pools_path())
        c.follow(c.css("a.edit-pool", self.pool_row(pool_id)), "the edit page")
        form = c.wait_css("form#edit-pool")
        name = c.css("input[name=display_name]", form)
        max_cfu = c.css("input[name=max_cfu]", form)
        check(name.get_attribute("value") == "browser-pool", f"display_name prefilled {name.get_attribute('value')!r}")
        check(max_cfu.get_attribute("value") == "10", f"max_cfu prefilled {max_cfu.get_attribute('value')!r}")
        c.fill(max_cfu, "20")
        c.audit_forms("edit pool")
        c.shot("edit-pool")
        c.submit_with(c.css("button#save-pool-button", form))
        c.wait_path(self.pools_path())
        cfu = c.wait(lambda: (t := c.css("td.cfu", self.pool_row(pool_id)).text.strip()) and "/ 20" in t and t,
                     10, "td.cfu with '/ 20'")
        check(re.fullmatch(r"\d+\s*/\s*20", cfu), f"td.cfu is {cfu!r}")
        spec = self.admin.ok("GET", f"/fcpm/v2/compute-pools/{pool_id}?environment={self.env}")["spec"]
        check(spec.get("max_cfu") == 20, f"the API says max_cfu {spec.get('max_cfu')}")
        check(spec.get("display_name") == "browser-pool", f"the API says display_name {spec.get('display_name')!r}")
        c.shot("pool-edited")

    def t3_delete_pool(self) -> None:
        c = self.c
        doomed = self.admin.ok("POST", "/fcpm/v2/compute-pools", {"spec": {
            "display_name": "browser-pool-doomed", "cloud": "AWS", "region": "us-east-1", "max_cfu": 5,
            "environment": {"id": self.env}}})["id"]
        # Wait for PROVISIONED first, so the list page is not reloading itself under the click.
        c.wait(lambda: self.admin.ok("GET", f"/fcpm/v2/compute-pools/{doomed}?environment={self.env}")
               ["status"]["phase"] == "PROVISIONED", 30, f"{doomed} to be PROVISIONED (API)")
        c.get(self.pools_path())
        row = c.wait(lambda: self.pool_row(doomed), 10, f"the row of {doomed}")
        form = c.css("form.delete-pool", row)
        c.submit_with(c.css("button[type=submit], input[type=submit], button:not([type])", form))
        c.wait_path(self.pools_path())
        c.wait(lambda: not c.present(f'table#compute-pools tr[data-id="{doomed}"]'), 10, f"the row of {doomed} to go")
        c.wait(lambda: doomed not in {p["id"] for p in self.admin.list_all(f"/fcpm/v2/compute-pools?environment={self.env}")},
               15, "the API to stop listing the deleted pool")
        check(c.present(f'table#compute-pools tr[data-id="{self.need("pool_id")}"]'), "browser-pool vanished too")
        c.shot("pool-deleted")

    # --------------------------------------------------------------------------------------------- 4 API keys
    def t4_wizard_owner(self) -> None:
        c = self.c
        c.get(self.pools_path())
        c.follow(c.css("a#tab-api-keys"), "the API keys tab")
        c.wait_path(f"{self.env_base}/api-keys")
        c.css("table#api-keys")
        c.audit_forms("api keys")
        c.shot("api-keys")
        c.follow(c.css("a#add-api-key"), "the wizard")
        c.wait_path(f"{self.env_base}/api-keys/new")
        form = c.css("form#wizard-owner")
        c.css('input[type=radio][name="owner"][value="me"]', form)
        c.choose_radio("owner", "service-account", form)
        # sa_mode=existing and select[name=service_account_id] appear only once service accounts exist (none yet here).
        c.choose_radio("sa_mode", "new", form)
        c.fill_css("input[name=sa_name]", "browser-sa", form)
        c.fill_css("input[name=sa_description]", "made by the browser suite", form)
        role = Select(c.css("select[name=sa_role]", form))
        roles = [o.get_attribute("value") for o in role.options]
        check({"FlinkDeveloper", "FlinkAdmin", "none"} <= set(roles), f"sa_role offers {roles}")
        check(role.first_selected_option.get_attribute("value") == "FlinkDeveloper",
              f"sa_role defaults to {role.first_selected_option.get_attribute('value')!r}")
        role.select_by_value("FlinkDeveloper")
        c.audit_forms("wizard step 1")
        c.shot("wizard-owner")
        c.submit_with(c.css("button#wizard-next", form))
        c.wait_css("form#wizard-scope")

    def region_visibility(self, select: WebElement) -> dict[str, bool]:
        """option value -> whether a user can see/choose it (hidden, disabled or display:none count as not)."""
        return self.c.d.execute_script("""
            const out = {};
            for (const o of arguments[0].options) {
              const g = o.parentElement.tagName === 'OPTGROUP' ? o.parentElement : null;
              const gone = e => e.hidden || e.disabled || getComputedStyle(e).display === 'none';
              out[o.value] = !(gone(o) || (g && gone(g)));
            }
            return out;""", select)

    def t4_wizard_scope(self) -> None:
        c = self.c
        form = c.wait_css("form#wizard-scope")
        regions = self.admin.list_all("/fcpm/v2/regions")
        by_cloud: dict[str, set[str]] = {}
        for r in regions:
            by_cloud.setdefault(r["cloud"].lower(), set()).add(r["region_name"])
        check("us-east-1" in by_cloud.get("aws", set()), f"the server offers no aws us-east-1: {by_cloud}")
        region = c.css("select[name=region]", form)
        for cloud in ("gcp", "aws"):  # end on aws
            c.choose_radio("cloud", cloud, form)
            time.sleep(0.2)
            seen = self.region_visibility(region)
            own = by_cloud.get(cloud, set())
            others = set().union(*(v for k, v in by_cloud.items() if k != cloud)) - own
            missing = sorted(r for r in own if not seen.get(r))
            leaked = sorted(r for r in others if seen.get(r))
            check(not missing, f"with cloud={cloud} the region select does not offer {missing}")
            check(not leaked, f"with cloud={cloud} the region select still offers other clouds' regions {leaked}")
        c.select(region, "us-east-1")
        c.audit_forms("wizard step 2")
        c.shot("wizard-scope")
        c.submit_with(c.css("button#wizard-next", form))
        c.wait_css("form#wizard-details")

    def t4_wizard_details(self) -> None:
        c = self.c
        form = c.wait_css("form#wizard-details")
        c.fill_css("input[name=name]", "browser-key", form)
        c.fill_css("input[name=description]", "Flink key made in the browser", form)
        c.audit_forms("wizard step 3")
        c.shot("wizard-details")
        c.submit_with(c.css("button#create-api-key", form))
        key = c.wait_css("code#api-key").text.strip()
        secret = c.text("code#api-secret")
        check(re.fullmatch(r"[A-Z0-9]{16}", key), f"code#api-key shows {key!r}")
        check(len(secret) >= 32, f"code#api-secret shows {secret!r}")
        self.state["key"], self.state["secret"] = key, secret
        link = c.css("a#download-api-key")
        href = link.get_attribute("href") or ""
        # The file is a blob: URL built by the page's script, so the secret is in no URL (nor the download history).
        check(href.startswith("blob:"), f"a#download-api-key is not a blob: URL: {href[:60]!r}")
        check(secret not in href, "a#download-api-key's URL holds the secret")
        check(c.path() == f"{self.env_base}/api-keys/created", f"the key page is not its own GET page: {c.url_summary()!r}")
        check(link.get_attribute("download") == f"api-key-{key}.txt",
              f"a#download-api-key download={link.get_attribute('download')!r}")
        c.css("a#wizard-complete")
        c.shot("wizard-created")

    def t4_download(self) -> None:
        c = self.c
        key, secret = self.need("key"), self.need("secret")
        c.clear_downloads()
        c.click(c.css("a#download-api-key"))
        path = c.wait_download(f"api-key-{key}.txt")
        content = path.read_text()
        m = re.search(r"API key:[ \t]*\r?\n\s*(\S+)\s*\r?\n\s*API secret:[ \t]*\r?\n\s*(\S+)", content)
        check(m, f"the downloaded file does not hold 'API key:' / 'API secret:' lines: {content!r}")
        check(m.group(1) == key, f"the file's key {m.group(1)!r} is not the page's {key!r}")
        check(m.group(2) == secret, "the file's secret is not the page's")
        check(c.path() == f"{self.env_base}/api-keys/created" and c.present("code#api-key"),
              f"clicking Download navigated away: {c.url_summary()!r}")

    def t4_key_works(self) -> None:
        key, secret = self.need("key"), self.need("secret")
        # The new service account exists and holds FlinkDeveloper in this environment.
        sas = [s for s in self.admin.list_all("/iam/v2/service-accounts") if s.get("display_name") == "browser-sa"]
        check(len(sas) == 1, f"the API lists {len(sas)} service accounts named browser-sa")
        doc = self.admin.ok("GET", f"/iam/v2/api-keys/{key}")
        spec = doc["spec"]
        check(spec["owner"]["id"] == sas[0]["id"], f"the key's owner is {spec['owner']['id']}, not browser-sa")
        check(spec["resource"]["id"] == "aws.us-east-1" and spec["resource"].get("environment") == self.env,
              f"the key's resource is {spec['resource']}")
        check(spec.get("display_name") == "browser-key", f"the key's display_name is {spec.get('display_name')!r}")
        self.state["browser_sa"] = sas[0]["id"]
        url = f"{self.server.base_url}{self.statements_api()}"
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", f"{key}:{secret}", url],
                             capture_output=True, text=True, timeout=60)
        check(out.stdout.strip() == "200", f"curl with the new key: HTTP {out.stdout.strip()!r} {out.stderr.strip()}")

    def t4_key_listed(self) -> None:
        c = self.c
        key = self.need("key")
        c.follow(c.css("a#wizard-complete"), "the API keys list")
        c.wait_path(f"{self.env_base}/api-keys")
        row = c.wait_css(f'table#api-keys tr[data-id="{key}"]')
        check("browser-key" in row.text, f"the key's row does not show its name: {row.text!r}")
        c.css("form.delete-api-key", row)
        check(self.need("secret") not in c.d.page_source, "the list page shows the secret")
        c.audit_forms("api keys (after wizard)")
        c.shot("api-key-listed")
        # The secret was shown once: its page now sends the browser back to the list.
        c.get(f"{self.env_base}/api-keys/created")
        c.wait_path(f"{self.env_base}/api-keys")
        check(self.need("secret") not in c.d.page_source, "the key's page showed the secret a second time")
        check("shown only once" in c.text(".flash-notice"), "no notice that the secret is shown only once")

    def t4_delete_key(self) -> None:
        c = self.c
        sa = self.need("browser_sa")
        doomed = self.admin.ok("POST", "/iam/v2/api-keys", {"spec": {
            "display_name": "browser-doomed-key", "owner": {"id": sa},
            "resource": {"id": "aws.us-east-1", "environment": self.env}}})
        c.get(f"{self.env_base}/api-keys")
        row = c.wait_css(f'table#api-keys tr[data-id="{doomed["id"]}"]')
        form = c.css("form.delete-api-key", row)
        c.submit_with(c.css("button[type=submit], input[type=submit], button:not([type])", form))
        c.wait_path(f"{self.env_base}/api-keys")
        c.wait(lambda: not c.present(f'table#api-keys tr[data-id="{doomed["id"]}"]'), 10, "the deleted key's row to go")
        check(c.present(f'table#api-keys tr[data-id="{self.need("key")}"]'), "browser-key vanished too")
        url = f"{self.server.base_url}{self.statements_api()}"
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u",
                              f"{doomed['id']}:{doomed['spec']['secret']}", url],
                             capture_output=True, text=True, timeout=60)
        check(out.stdout.strip() == "401", f"curl with the deleted key: HTTP {out.stdout.strip()!r} (wanted 401)")
        c.shot("api-key-deleted")

    # -------------------------------------------------------------------------------------------- 5 workspace
    def workspace_run(self, sql: str) -> str:
        """Types sql into the editor, runs it on browser-pool, returns the new statement's name."""
        c = self.c
        # The name the workspace shows now (the previous run's): the new run must replace it.
        previous = c.text("span#workspace-statement-name")
        pool_id = self.need("pool_id")
        c.select(c.css("select#workspace-pool"), pool_id, text_contains="browser-pool")
        c.css("input#workspace-catalog")
        c.css("input#workspace-database")
        c.fill(c.css("textarea#sql-editor"), sql)
        c.click(c.css("button#run-statement"))
        # (the span holds a placeholder such as '–' before the first run)
        name = c.wait(lambda: (n := c.text("span#workspace-statement-name")) != previous
                      and re.fullmatch(r"[a-z0-9][a-z0-9-]*", n) and n, 20,
                      "a new statement name in span#workspace-statement-name")
        doc = self.admin.ok("GET", f"{self.statements_api()}/{name}")
        check(doc["spec"]["statement"].strip().rstrip(";") == sql,
              f"statement {name} holds {doc['spec']['statement']!r}")
        check(doc["spec"].get("compute_pool_id") == pool_id,
              f"statement {name} runs on {doc['spec'].get('compute_pool_id')!r}, not {pool_id}")
        return name

    def workspace_error(self) -> str:
        els = self.c.d.find_elements(By.CSS_SELECTOR, "#workspace-error")
        return els[0].text.strip() if els else ""

    def t5_workspace_bounded(self) -> None:
        c = self.c
        self.need("pool_id")
        c.get(self.pools_path())
        c.follow(c.css("a#tab-workspace"), "the workspace")
        c.wait_path(f"{self.env_base}/workspace")
        c.css("button#stop-statement")
        c.audit_forms("workspace")
        c.shot("workspace")
        name = self.workspace_run(BOUNDED_SQL)
        self.state["bounded"] = name
        expected = [["1", "a"], ["2", "b"], ["3", "c"]]
        c.wait(lambda: sorted(c.rows("table#workspace-results")) == expected, 30,
               f"the 3 rows {expected} in table#workspace-results")
        headers = c.headers("table#workspace-results")
        check(headers == ["id", "name"], f"table#workspace-results headers are {headers}")
        c.wait(lambda: c.text("span#workspace-phase") == "COMPLETED", 30, "span#workspace-phase COMPLETED")
        check(not self.workspace_error(), f"#workspace-error says {self.workspace_error()!r}")
        c.shot("workspace-bounded")

    def t5_workspace_changelog(self) -> None:
        c = self.c
        previous = self.need("bounded")
        name = self.workspace_run(CHANGELOG_SQL)
        expected = [["a", "3"], ["b", "2"], ["c", "1"]]
        c.wait(lambda: c.text("span#workspace-phase") == "COMPLETED", 30, "span#workspace-phase COMPLETED")
        c.wait(lambda: sorted(c.rows("table#workspace-results")) == expected, 30,
               f"the final counts {expected} in table#workspace-results")
        # The statement really sent retractions, so the table above is the changelog applied, not a plain listing.
        ops = [change["op"] for change in self.admin.ok("GET", f"{self.statements_api()}/{name}/results")["results"]["data"]]
        check(1 in ops and 2 in ops, f"the GROUP BY statement's changelog has no -U/+U: ops {ops}")
        # Running it did not stop the earlier, finished statement.
        phase = self.admin.ok("GET", f"{self.statements_api()}/{previous}")["status"]["phase"]
        check(phase == "COMPLETED", f"the earlier bounded statement is {phase}, not COMPLETED")
        c.shot("workspace-changelog")

    def t5_workspace_unbounded(self) -> None:
        c = self.c
        name = self.workspace_run(UNBOUNDED_SQL)
        self.state["unbounded"] = name
        c.wait(lambda: c.text("span#workspace-phase") == "RUNNING", 30,
               "span#workspace-phase RUNNING")
        c.wait(lambda: len(c.rows("table#workspace-results")) >= 3, 30, "rows of examples.marketplace.orders")
        headers = c.headers("table#workspace-results")
        check(headers == ["order_id", "price"], f"table#workspace-results headers are {headers}")
        first = c.rows("table#workspace-results")[0]
        check(len(first) == 2 and re.fullmatch(r"[0-9a-f-]{36}", first[0]), f"an orders row reads {first}")
        c.shot("workspace-unbounded")

    def shown_rows(self) -> int:
        """The row count in #workspace-status ('1234 rows (showing the first 1000) · reconnecting…'), -1 if none."""
        m = re.match(r"(\d+) rows?\b", self.c.text("#workspace-status"))
        return int(m.group(1)) if m else -1

    def results_requests(self, name: str) -> list[float]:
        """Start times (ms, page clock) of the page's requests for `name`'s results since the timings were cleared."""
        return self.c.d.execute_script(
            "return performance.getEntriesByType('resource')"
            ".filter((e) => e.name.includes('/statements/' + arguments[0] + '/results')).map((e) => e.startTime);", name)

    def watch_following(self, seconds: float, problems: list[str]) -> None:
        """Reads the workspace twice a second for `seconds`, noting any FAILED phase or error shown."""
        c = self.c
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            phase, error = c.text("span#workspace-phase"), self.workspace_error()
            if phase != "RUNNING" or error:
                problems.append(f"phase {phase!r}, #workspace-error {error!r}, #workspace-status {c.text('#workspace-status')!r}")
            time.sleep(0.5)

    def t5_workspace_paced(self) -> None:
        """Following a live stream asks about once a second (the pacer), not as fast as pages come back."""
        c = self.c
        name = self.need("unbounded")
        c.wait(lambda: c.text("span#workspace-phase") == "RUNNING", 10, "span#workspace-phase RUNNING")
        # The page's resource timings count its requests (the buffer holds 250 by default: make room).
        c.d.execute_script("performance.setResourceTimingBufferSize(10000); performance.clearResourceTimings();")
        rows_before, started = self.shown_rows(), time.monotonic()
        problems: list[str] = []
        self.watch_following(20, problems)
        elapsed = time.monotonic() - started
        requests = len(self.results_requests(name))
        rows_after = self.shown_rows()
        print(f"     {requests} results requests in {elapsed:.1f}s; rows {rows_before} -> {rows_after}", flush=True)
        check(not problems, f"while following {name}: {problems[:3]}")
        check(requests <= 2 * elapsed, f"{requests} results requests in {elapsed:.1f}s (wanted at most 2 a second)")
        check(requests >= elapsed / 4, f"only {requests} results requests in {elapsed:.1f}s: is the page still following?")
        check(rows_after > rows_before, f"the row count did not grow while following ({rows_before} -> {rows_after})")
        c.shot("workspace-paced")

    def t5_workspace_reconnects(self) -> None:
        """A server out of reach is 'reconnecting…' beside the last phase (not FAILED), and following resumes."""
        c = self.c
        self.need("unbounded")
        c.d.execute_cdp_cmd("Network.enable", {})
        c.d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/results*"]})
        try:
            c.wait(lambda: "reconnecting" in c.text("#workspace-status"), 10, "'reconnecting…' in #workspace-status")
            phase, error = c.text("span#workspace-phase"), self.workspace_error()
            check(phase == "RUNNING" and not error, f"while reconnecting: phase {phase!r}, #workspace-error {error!r}")
            c.shot("workspace-reconnecting")
        finally:
            c.d.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
            c.d.execute_cdp_cmd("Network.disable", {})
        rows = self.shown_rows()
        c.wait(lambda: "reconnecting" not in c.text("#workspace-status") and self.shown_rows() > rows, 15,
               "following to resume (the note gone, more rows)")
        phase, error = c.text("span#workspace-phase"), self.workspace_error()
        check(phase == "RUNNING" and not error, f"after reconnecting: phase {phase!r}, #workspace-error {error!r}")

    def t5_workspace_rate_limited(self) -> None:
        """A 429 waits its Retry-After and says so; it is not an error. The page's fetch answers the next results
        request with the console's 429 (as ConsoleTests' aRateLimitedFetchCarriesRetryAfter has the server send it)."""
        c = self.c
        name = self.need("unbounded")
        c.d.execute_script("""
            const real = window.__floeRealFetch = window.fetch;
            window.__floeRefused = [];
            window.fetch = function (url, init) {
              if (String(url).includes('/results') && window.__floeRefused.length === 0) {
                window.__floeRefused.push(performance.now());
                const body = JSON.stringify({ errors: [{ status: '429', code: 'too_many_requests',
                  detail: 'Rate limit exceeded: more than 1000 requests per minute from one client address.' }] });
                return Promise.resolve(new Response(body, { status: 429, headers: { 'Retry-After': '3', 'Content-Type': 'application/json' } }));
              }
              return real.apply(this, arguments);
            };
            performance.clearResourceTimings();""")
        try:
            c.wait(lambda: "rate limited" in c.text("#workspace-status"), 10, "'rate limited' in #workspace-status")
            status = c.text("#workspace-status")
            check("retrying in 3 s" in status, f"#workspace-status {status!r} does not say how long it waits (Retry-After: 3)")
            phase, error = c.text("span#workspace-phase"), self.workspace_error()
            check(phase == "RUNNING" and not error, f"while rate limited: phase {phase!r}, #workspace-error {error!r}")
            c.shot("workspace-rate-limited")
            c.wait(lambda: "rate limited" not in c.text("#workspace-status"), 10, "following to resume after Retry-After")
        finally:
            c.d.execute_script("if (window.__floeRealFetch) { window.fetch = window.__floeRealFetch; }")
        refused_at = c.d.execute_script("return window.__floeRefused[0];")
        # Requests that reached the server after the refusal (timings were cleared before it): none within 3 s.
        after = [t for t in self.results_requests(name) if t > refused_at]
        check(bool(after), "no results request after the 429")
        check(min(after) - refused_at >= 2900, f"asked again {min(after) - refused_at:.0f} ms after a 429 with Retry-After: 3")
        phase, error = c.text("span#workspace-phase"), self.workspace_error()
        check(phase == "RUNNING" and not error, f"after the 429: phase {phase!r}, #workspace-error {error!r}")

    def t5_workspace_stop(self) -> None:
        c = self.c
        name = self.need("unbounded")
        c.click(c.css("button#stop-statement"))
        c.wait(lambda: c.text("span#workspace-phase") == "STOPPED", 30, "span#workspace-phase STOPPED")
        phase = self.admin.ok("GET", f"{self.statements_api()}/{name}")["status"]["phase"]
        check(phase == "STOPPED", f"the API says {name} is {phase}")
        c.shot("workspace-stopped")

    def t5_workspace_leave(self) -> None:
        c = self.c
        name = self.need("unbounded")
        name = self.workspace_run(UNBOUNDED_SQL)
        c.wait(lambda: c.text("span#workspace-phase") == "RUNNING", 30, "span#workspace-phase RUNNING")
        # Leaving the workspace lets its query go: the page stops it on its way out (a keepalive fetch).
        c.follow(c.css("a#tab-statements"), "the statements tab")
        deadline = time.time() + 30
        phase = ""
        while time.time() < deadline:
            phase = self.admin.ok("GET", f"{self.statements_api()}/{name}")["status"]["phase"]
            if phase in ("STOPPING", "STOPPED"):
                break
            time.sleep(0.3)
        check(phase in ("STOPPING", "STOPPED"), f"the query left behind in the workspace is {phase}")

    def t5_statements_list(self) -> None:
        c = self.c
        bounded, unbounded = self.need("bounded"), self.need("unbounded")
        c.follow(c.css("a#tab-statements"), "the statements tab")
        c.wait_path(f"{self.env_base}/statements")
        for name, phase in ((bounded, "COMPLETED"), (unbounded, "STOPPED")):
            row = c.css(f'table#statements tr[data-name="{name}"]')
            got = c.css("td.phase", row).text.strip()
            check(got == phase, f"{name}'s td.phase is {got!r}, expected {phase}")
            href = c.css("a.statement-link", row).get_attribute("href")
            check(urllib.parse.urlsplit(href).path == f"{self.env_base}/statements/{name}", f"{name} links to {href!r}")
        c.audit_forms("statements")
        c.shot("statements")

    def filter_statements(self, q: str, phase: str) -> set[str]:
        c = self.c
        form = c.css("form#statement-filter")
        c.fill_css("input[name=q]", q, form)
        c.select(c.css("select[name=phase]", form), phase, text_contains=phase or None)
        c.submit_with(c.css("button", form))
        c.wait_path(f"{self.env_base}/statements")
        return {tr.get_attribute("data-name") for tr in c.css_all("table#statements tr[data-name]")}

    def t5_statement_filter(self) -> None:
        c = self.c
        bounded, unbounded = self.need("bounded"), self.need("unbounded")
        c.get(f"{self.env_base}/statements")
        any_phase = Select(c.css("form#statement-filter select[name=phase]")).first_selected_option
        check(any_phase.get_attribute("value") == "", f"the phase filter starts at {any_phase.get_attribute('value')!r}")
        names = self.filter_statements("", "STOPPED")
        check(unbounded in names and bounded not in names, f"phase=STOPPED lists {sorted(names)}")
        names = self.filter_statements("", "COMPLETED")
        check(bounded in names and unbounded not in names, f"phase=COMPLETED lists {sorted(names)}")
        names = self.filter_statements(bounded[-6:], "")
        check(bounded in names and unbounded not in names, f"q={bounded[-6:]!r} lists {sorted(names)}")
        names = self.filter_statements("no-such-statement-" + secrets.token_hex(3), "")
        check(not names, f"a q matching nothing lists {sorted(names)}")
        c.shot("statements-filtered")

    def open_statement(self, name: str) -> None:
        c = self.c
        c.get(f"{self.env_base}/statements")
        row = c.css(f'table#statements tr[data-name="{name}"]')
        c.follow(c.css("a.statement-link", row), "the statement page")
        c.wait_path(f"{self.env_base}/statements/{name}")

    def t5_statement_detail(self) -> None:
        c = self.c
        name = self.need("bounded")
        self.open_statement(name)
        sql = " ".join(c.text("pre#statement-sql").split())
        check(BOUNDED_SQL in sql, f"pre#statement-sql reads {sql!r}")
        check(c.text("#statement-phase") == "COMPLETED", f"#statement-phase is {c.text('#statement-phase')!r}")
        c.css("table#statement-properties")
        c.css("#statement-traits")
        c.css("#statement-exceptions")
        schema = c.css("table#statement-schema").text
        check("id" in schema and "name" in schema, f"table#statement-schema reads {schema!r}")
        c.wait(lambda: sorted(c.rows("table#results")) == [["1", "a"], ["2", "b"], ["3", "c"]], 30,
               "the 3 rows in table#results")
        check(c.present("form#delete-statement"), "no form#delete-statement")
        check(not c.present("form#stop-statement"), "a COMPLETED statement offers form#stop-statement")
        c.audit_forms("statement detail")
        c.shot("statement-detail")

    def wait_phase_reloading(self, wanted: set[str], timeout: float = 30) -> str:
        c = self.c
        deadline = time.monotonic() + timeout
        while True:
            phase = c.text("#statement-phase")
            if phase in wanted:
                return phase
            if time.monotonic() > deadline:
                raise CheckFailed(f"#statement-phase stayed {phase!r}, wanted {sorted(wanted)}; {c.page_state()}")
            time.sleep(1)
            c.d.refresh()
            c.wait_ready()

    def t5_statement_delete(self) -> None:
        c = self.c
        name = self.need("unbounded")
        self.open_statement(name)
        check(c.text("#statement-phase") == "STOPPED", f"#statement-phase is {c.text('#statement-phase')!r}")
        check(not c.present("form#stop-statement"), "a STOPPED statement offers form#stop-statement")
        # Floe (like Confluent) resumes only CREATE TABLE AS / INSERT INTO / STATEMENT SET, never a SELECT.
        check(not c.present("form#resume-statement"), "a STOPPED SELECT offers form#resume-statement")
        c.submit_with(c.css("form#delete-statement button, form#delete-statement input[type=submit]"))
        c.wait_path(f"{self.env_base}/statements")
        check(not c.present(f'table#statements tr[data-name="{name}"]'), f"{name} is still listed after delete")
        c.wait(lambda: self.admin.call("GET", f"{self.statements_api()}/{name}")[0] == 404, 15,
               f"the API to answer 404 for {name}")
        c.shot("statement-deleted")

    def t5_statement_resume_stop(self) -> None:
        c = self.c
        pool = self.need("pool_id")
        api = self.statements_api()
        suffix = secrets.token_hex(3)
        ddl, ins = f"browser-ddl-{suffix}", f"browser-insert-{suffix}"
        table = f"browser_orders_{suffix}"
        self.admin.ok("POST", api, {"name": ddl, "spec": {
            "statement": f"CREATE TABLE {table} (order_id STRING, price DOUBLE)", "compute_pool_id": pool}})
        c.wait(lambda: self.admin.ok("GET", f"{api}/{ddl}")["status"]["phase"] == "COMPLETED", 30, f"{ddl} COMPLETED")
        self.admin.ok("POST", api, {"name": ins, "spec": {
            "statement": f"INSERT INTO {table} SELECT order_id, price FROM examples.marketplace.orders",
            "compute_pool_id": pool}})
        c.wait(lambda: self.admin.ok("GET", f"{api}/{ins}")["status"]["phase"] == "RUNNING", 30, f"{ins} RUNNING (API)")
        detail = f"{self.env_base}/statements/{ins}"
        self.open_statement(ins)
        self.wait_phase_reloading({"RUNNING"})
        check(not c.present("form#resume-statement"), "a RUNNING statement offers form#resume-statement")
        c.submit_with(c.css("form#stop-statement button, form#stop-statement input[type=submit]"))
        c.get(detail)
        self.wait_phase_reloading({"STOPPED"})
        check(not c.present("form#stop-statement"), "a STOPPED statement offers form#stop-statement")
        c.shot("insert-stopped")
        c.submit_with(c.css("form#resume-statement button, form#resume-statement input[type=submit]"))
        c.get(detail)
        self.wait_phase_reloading({"RUNNING"})
        phase = self.admin.ok("GET", f"{api}/{ins}")["status"]["phase"]
        check(phase == "RUNNING", f"the API says {ins} is {phase}")
        c.shot("insert-resumed")
        # leave nothing running
        self.admin.call("DELETE", f"{api}/{ins}")

    # --------------------------------------------------------------------------------------------- 6 sign out
    def t6_sign_out(self) -> None:
        c = self.c
        c.get("/environments")
        form = c.css("form#sign-out")
        c.submit_with(c.css("button#sign-out-button", form))
        c.wait_path("/login")
        c.shot("signed-out")

    def t6_signed_out_redirects(self) -> None:
        c = self.c
        c.get("/environments")
        check(c.path() == "/login", f"GET /environments after sign-out ended at {c.url_summary()!r}")
        c.get(self.pools_path())
        check(c.path() == "/login", f"GET {self.pools_path()} after sign-out ended at {c.url_summary()!r}")

    # -------------------------------------------------------------------------------------------------- 7 CSRF
    def t7_sign_in_again(self) -> None:
        self.sign_in(self.b.api_key, self.b.api_secret)
        self.c.wait_css("table#environments")

    def forged_post(self, attacker_host: str, tag: str) -> str:
        """Lets the browser visit an attacker page that auto-submits a form to POST /environments; returns where it
        landed: 'refused-403' or 'login'. Fails if the environment got created or the POST was not refused."""
        c = self.c
        forged = f"forged-{tag}-{secrets.token_hex(3)}"
        page = f"attack-{tag}.html"
        Path(self.attack_dir, page).write_text(
            "<!doctype html><html><body><h1>Totally harmless page</h1>"
            f'<form id="f" method="post" action="http://127.0.0.1:{self.port}/environments">'
            f'<input name="display_name" value="{forged}"></form>'
            "<script>document.getElementById('f').submit();</script></body></html>")
        c.d.get(f"http://{attacker_host}:{self.attack_port}/{page}")
        c.wait(lambda: urllib.parse.urlsplit(c.d.current_url).port == self.port, 15,
               "the auto-submitted form to reach floe")
        c.wait_ready()
        c.shot(f"forged-{tag}")
        status = c.error_status()
        outcome = "refused-403" if status == "403" else ("login" if c.path() == "/login" else f"other: {c.page_state()}")
        envs = [e["display_name"] for e in self.admin.list_all("/org/v2/environments")]
        check(not any(n.startswith("forged-") for n in envs), f"a forged POST created an environment: {envs}")
        return outcome

    def t7_forged_cross_site(self) -> None:
        # localhost is another site than 127.0.0.1: the SameSite session cookie is not sent.
        outcome = self.forged_post("localhost", "cross-site")
        check(outcome in ("refused-403", "login"), f"the cross-site forged POST was not refused: {outcome}")
        if outcome == "refused-403":
            check(self.c.text("#error-detail"), "the 403 page has an empty #error-detail")

    def t7_forged_same_site(self) -> None:
        # Another port of 127.0.0.1 is the same site (cookies are sent), another origin: only the CSRF token stops it.
        outcome = self.forged_post("127.0.0.1", "same-site")
        check(outcome == "refused-403", f"the same-site cross-origin forged POST was not refused with 403: {outcome}")
        check(self.c.text("#error-detail"), "the 403 page has an empty #error-detail")
        # The refusal did not end the session.
        self.c.get("/environments")
        check(self.c.path() == "/environments" and self.c.present("span#principal"),
              f"after the forged POST the session is gone: {self.c.page_state()}")

    def t7_same_origin_without_token(self) -> None:
        """Same origin (Sec-Fetch-Site: same-origin, matching Origin), so only the _csrf token itself can refuse it."""
        c = self.c
        for label, token in (("missing", None), ("wrong", "A" * 43)):
            c.get("/environments")
            forged = f"forged-token-{label}-{secrets.token_hex(3)}"
            old = c.d.find_element(By.TAG_NAME, "html")
            c.d.execute_script("""
                const form = document.createElement('form');
                form.method = 'post'; form.action = '/environments';
                const add = (name, value) => { const i = document.createElement('input'); i.type = 'hidden';
                  i.name = name; i.value = value; form.appendChild(i); };
                add('display_name', arguments[0]);
                if (arguments[1] !== null) { add('_csrf', arguments[1]); }
                document.body.appendChild(form); form.submit();""", forged, token)
            c.wait(lambda: c._stale(old), 15, "the forged same-origin POST to load a page")
            c.wait_ready()
            c.shot(f"forged-token-{label}")
            check(c.error_status() == "403", f"a same-origin POST with a {label} _csrf was not refused with 403: "
                                             f"{c.page_state()}")
            envs = [e["display_name"] for e in self.admin.list_all("/org/v2/environments")]
            check(not any(n.startswith("forged-") for n in envs), f"a forged POST created an environment: {envs}")
        c.get("/environments")
        check(c.path() == "/environments" and c.present("span#principal"),
              f"after the forged POSTs the session is gone: {c.page_state()}")

    # ------------------------------------------------------------------------------------------ 8 no-role principal
    def t8_no_role_principal(self) -> None:
        c = self.c
        sa = self.admin.ok("POST", "/iam/v2/service-accounts",
                           {"display_name": "browser-norole", "description": "no roles at all"})
        key = self.admin.ok("POST", "/iam/v2/api-keys", {"spec": {
            "display_name": "browser-norole-cloud", "owner": {"id": sa["id"]}, "resource": {"id": "cloud"}}})
        self.state["norole"] = (sa["id"], key["id"], key["spec"]["secret"])
        # sign the admin out first
        c.get("/environments")
        if c.present("form#sign-out"):
            c.submit_with(c.css("form#sign-out button#sign-out-button"))
            c.wait_path("/login")
        self.sign_in(key["id"], key["spec"]["secret"])
        principal = c.text("span#principal")
        check(sa["id"] in principal or "browser-norole" in principal,
              f"span#principal says {principal!r}, expected {sa['id']} or browser-norole")
        check(not c.present("form#create-environment"), "a principal without roles is offered form#create-environment")
        check(not c.present("button#create-environment-button"), "a principal without roles sees the create button")
        c.audit_forms("environments (no role)")
        c.shot("no-role-environments")

    def t8_no_role_pools(self) -> None:
        c = self.c
        self.need("norole")
        c.get(self.pools_path())
        status = c.error_status()
        if status is not None:
            check(status in ("403", "404"), f"the no-role principal's compute pools page says #error-status {status!r}")
        else:
            check(c.path() == self.pools_path(), f"ended at {c.url_summary()!r}")
            check(not c.present("a#create-pool-link"), "a principal without roles is offered a#create-pool-link")
        c.shot("no-role-compute-pools")
        c.get(f"{self.pools_path()}/new")
        status = c.error_status()
        check(status in ("403", "404") or c.path() == "/login",
              f"GET …/compute-pools/new as the no-role principal was not refused: {c.page_state()}")
        c.shot("no-role-create-pool")

    def t9_csrf_inputs(self) -> None:
        check(self.c.forms_audited > 0, "no POST form was audited")
        check(not self.c.csrf_problems, "; ".join(self.c.csrf_problems))


def main() -> None:
    if SHOTS.exists():
        for old in SHOTS.iterdir():
            if re.match(r"\d\d-.*\.(png|html)$", old.name):
                old.unlink()
    SHOTS.mkdir(parents=True, exist_ok=True)
    exit_on_signals()
    server = start_or_exit(FloeServer(label="browser"))
    download_dir = tempfile.mkdtemp(prefix="floe-browser-downloads-")
    driver = None
    passed = failed = 0
    try:
        print(f"started floe at {server.base_url} (data dir {server.data_dir})", flush=True)
        try:
            driver = make_driver(download_dir)
        except Exception as e:  # noqa: BLE001
            print(f"FAIL start browser: {type(e).__name__}: {e}", flush=True)
            print("0 passed, 1 failed", flush=True)
            sys.exit(2)
        print(f"browser: {driver.capabilities.get('browserVersion')} "
              f"(driver {driver.capabilities.get('chrome', {}).get('chromedriverVersion', '?').split(' ')[0]})",
              flush=True)
        console = Console(driver, server.base_url, download_dir)
        suite = ConsoleSuite(server, console)
        runner = Runner(console)
        s = suite
        try:
            for name, fn in [
                ("1.1 login page", s.t1_login_page),
                ("1.2 login wrong secret shows .flash-error", s.t1_login_wrong_secret),
                ("1.3 login as admin lists the default environment", s.t1_login_admin),
                ("2.1 create environment browser-env", s.t2_create_environment),
                ("2.2 open default environment (compute pools tab)", s.t2_open_default_environment),
                ("2.3 Kafka clusters tab lists a FAILED cluster with its reason", s.t2_kafka_clusters_tab),
                ("3.1 create compute pool browser-pool", s.t3_create_pool),
                ("3.2 compute pool becomes PROVISIONED", s.t3_pool_provisioned),
                ("3.3 edit compute pool to max 20 CFU", s.t3_edit_pool),
                ("3.4 delete a compute pool", s.t3_delete_pool),
                ("4.1 API key wizard: new service account", s.t4_wizard_owner),
                ("4.2 API key wizard: cloud and region", s.t4_wizard_scope),
                ("4.3 API key wizard: details, key and secret shown", s.t4_wizard_details),
                ("4.4 API key download matches the page", s.t4_download),
                ("4.5 new Flink API key works with curl", s.t4_key_works),
                ("4.6 new API key listed", s.t4_key_listed),
                ("4.7 delete an API key", s.t4_delete_key),
                ("5.1 workspace: bounded query shows 3 rows", s.t5_workspace_bounded),
                ("5.1b workspace: GROUP BY changelog applied (updates replace rows)", s.t5_workspace_changelog),
                ("5.2 workspace: unbounded query RUNNING with rows", s.t5_workspace_unbounded),
                ("5.2b workspace: following a stream for 20 s asks at most twice a second", s.t5_workspace_paced),
                ("5.2c workspace: losing the server shows reconnecting, then resumes", s.t5_workspace_reconnects),
                ("5.2d workspace: a 429 waits its Retry-After, then resumes", s.t5_workspace_rate_limited),
                ("5.3 workspace: stop -> STOPPED", s.t5_workspace_stop),
                ("5.3b workspace: leaving the page stops its query", s.t5_workspace_leave),
                ("5.4 statements tab lists the workspace statements", s.t5_statements_list),
                ("5.5 statements filter", s.t5_statement_filter),
                ("5.6 statement detail", s.t5_statement_detail),
                ("5.7 stopped SELECT: no resume, delete", s.t5_statement_delete),
                ("5.8 INSERT statement: stop and resume", s.t5_statement_resume_stop),
                ("6.1 sign out", s.t6_sign_out),
                ("6.2 signed out: pages redirect to /login", s.t6_signed_out_redirects),
                ("7.1 sign in again", s.t7_sign_in_again),
                ("7.2 forged cross-site POST refused", s.t7_forged_cross_site),
                ("7.3 forged same-site cross-origin POST refused", s.t7_forged_same_site),
                ("7.4 same-origin POST with a missing or wrong _csrf refused", s.t7_same_origin_without_token),
                ("8.1 no-role principal: no create-environment form", s.t8_no_role_principal),
                ("8.2 no-role principal: no create-pool link", s.t8_no_role_pools),
                ("9.1 every POST form carries a hidden _csrf", s.t9_csrf_inputs),
            ]:
                runner.run(name, fn)
        finally:
            suite.close()
        passed, failed = runner.passed, runner.failed
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:  # noqa: BLE001
                pass
        if failed:
            print("floe log tail:\n" + server.log_tail(25), flush=True)
        server.stop()
        shutil.rmtree(download_dir, ignore_errors=True)
    print(f"screenshots: {SHOTS}", flush=True)
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
