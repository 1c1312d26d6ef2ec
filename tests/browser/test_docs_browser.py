"""/api/docs/ (Swagger UI) and /api/redoc/ in a real headless Chromium (issue 10, item 7): both
load with every request going to the test server itself (read from Chromium's DevTools network
log), under the pages' Content-Security-Policy with no violation reported, and Swagger UI's
"Authorize" then "Try it out" -> "Execute" on GET /api/users/profile/ answers 200 with the
signed-in user's profile.

Needs Debian's `chromium` and `chromium-driver` (/usr/bin/chromium, /usr/bin/chromedriver), like
apps/moderation/tests/test_admin_browser.py; skipped, saying so, when they are absent."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from apps.common.schema_views import DOCS_CSP

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT = 30  # seconds, for every wait on the browser (the UIs are large bundles)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
# Served by the browser itself, never fetched: inline data, blobs, blank and internal pages
# (Chromium's new-tab page loads chrome:// resources at start-up).
LOCAL_SCHEMES = {"data", "blob", "about", "chrome"}
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not CHROMIUM.exists() or not CHROMEDRIVER.exists(),
        reason=(
            "no /usr/bin/chromium or /usr/bin/chromedriver: apt-get install -y chromium "
            "chromium-driver to run the docs browser tests"
        ),
    ),
]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    from selenium import webdriver

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager go online
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tmp_path / "chromium-profile"  # fresh for each run
    profile.mkdir()
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument("--window-size=1280,2000")
    # The DevTools network events (every request the page makes) and the console (CSP
    # violations are reported there).
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    service = webdriver.ChromeService(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(WAIT)
    driver.set_script_timeout(WAIT)
    driver.get("about:blank")
    driver.get_log("performance")  # start-up noise: each test reads from here on
    try:
        yield driver
    finally:
        driver.quit()


def requests_made(browser: Any) -> list[dict[str, Any]]:
    """Every request the page started since the last call (DevTools Network.requestWillBeSent,
    WebSockets included), each with `blocked`: the reason Chromium stopped it before it reached
    the network (`csp`: the page's Content-Security-Policy refused it), or None."""
    sent: dict[str, dict[str, Any]] = {}
    blocked: dict[str, str] = {}
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message["params"]
        if message["method"] == "Network.requestWillBeSent":
            sent[params["requestId"]] = dict(params["request"])
        elif message["method"] == "Network.webSocketCreated":
            sent[params["requestId"]] = {"url": params["url"], "method": "GET", "headers": {}}
        elif message["method"] == "Network.loadingFailed" and params.get("blockedReason"):
            blocked[params["requestId"]] = params["blockedReason"]
    return [{**request, "blocked": blocked.get(key)} for key, request in sent.items()]


def elsewhere(requests: list[dict[str, Any]], live_server: Any) -> list[dict[str, Any]]:
    here = urlsplit(live_server.url).netloc
    return [
        r
        for r in requests
        if urlsplit(r["url"]).scheme not in LOCAL_SCHEMES and urlsplit(r["url"]).netloc != here
    ]


def assert_all_local(requests: list[dict[str, Any]], live_server: Any) -> None:
    assert not elsewhere(requests, live_server), "requests leaving the machine"


def click(browser: Any, element: Any) -> None:
    """Scrolled into view and clicked in the page: Swagger UI keeps re-laying out the page while
    an operation opens, so a pointer click at a computed point may land on its neighbour."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    browser.execute_script("arguments[0].click()", element)


def csp_violations(browser: Any) -> list[str]:
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]
    ]


def test_redoc_renders_the_api_from_this_server_only(live_server: Any, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{live_server.url}/api/redoc/")
    wait = WebDriverWait(browser, WAIT)
    title = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".api-info h1")))
    assert title.text.startswith("Marketplace API")
    # The operations are rendered from the schema (a few of the contract's paths).
    wait.until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".api-content"), "/api/users/login/")
    )
    assert "/api/ads/{slug}/images/" in browser.find_element(By.CSS_SELECTOR, ".api-content").text

    requests = requests_made(browser)
    urls = [r["url"] for r in requests]
    assert any(url.endswith("/api/schema/") for url in urls), urls
    assert any("redoc.standalone.js" in url for url in urls), urls
    # Redoc's bundle always draws the "API docs by Redocly" logo from its CDN: the CSP refuses
    # it in the browser (blockedReason csp), so it never reaches the network. Nothing else
    # points away from this server.
    assert [(r["url"], r["blocked"]) for r in elsewhere(requests, live_server)] == [
        (REDOC_LOGO, "csp")
    ]
    violations = csp_violations(browser)
    assert len(violations) == 1 and REDOC_LOGO in violations[0], violations


def test_swagger_ui_authorize_then_execute_a_request(
    live_server: Any, browser: Any, make_user: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from apps.users.services import issue_tokens

    user = make_user(first_name="Wanjiku", last_name="Kamau")
    token = issue_tokens(user=user).access
    wait = WebDriverWait(browser, WAIT)

    browser.get(f"{live_server.url}/api/docs/")
    title = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".info .title")))
    assert title.text.startswith("Marketplace API")

    # "Authorize": the bearer token into the jwtAuth scheme.
    browser.find_element(By.CSS_SELECTOR, "button.btn.authorize").click()
    dialog = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".auth-container")))
    assert "jwtAuth" in dialog.text
    dialog.find_element(By.CSS_SELECTOR, "input").send_keys(token)
    dialog.find_element(By.CSS_SELECTOR, "button.modal-btn.auth.authorize").click()
    wait.until(  # the scheme now shows "Authorized" and offers "Logout"
        ec.visibility_of_element_located(
            (By.XPATH, "//div[contains(@class, 'auth-container')]//button[.='Logout']")
        )
    )
    assert "Authorized" in browser.find_element(By.CSS_SELECTOR, ".auth-container").text
    browser.find_element(By.CSS_SELECTOR, "button.btn-done").click()
    wait.until(ec.invisibility_of_element_located((By.CSS_SELECTOR, ".auth-container")))

    # GET /api/users/profile/: open it, "Try it out", "Execute".
    operation = wait.until(
        ec.presence_of_element_located((By.ID, "operations-users-users_profile_retrieve"))
    )
    click(browser, operation.find_element(By.CSS_SELECTOR, ".opblock-summary-control"))
    try_it = wait.until(
        ec.element_to_be_clickable(
            (By.CSS_SELECTOR, "#operations-users-users_profile_retrieve .try-out__btn")
        )
    )
    click(browser, try_it)
    execute = wait.until(
        ec.element_to_be_clickable(
            (By.CSS_SELECTOR, "#operations-users-users_profile_retrieve button.execute")
        )
    )
    browser.get_log("performance")  # only the request Execute sends from here on
    click(browser, execute)
    status = wait.until(
        ec.visibility_of_element_located(
            (
                By.CSS_SELECTOR,
                "#operations-users-users_profile_retrieve .live-responses-table "
                ".response .response-col_status",
            )
        )
    )
    assert status.text.strip() == "200"
    body = browser.find_element(
        By.CSS_SELECTOR,
        "#operations-users-users_profile_retrieve .live-responses-table .microlight",
    ).text
    profile = json.loads(body)
    assert (profile["id"], profile["email"], profile["first_name"]) == (
        str(user.pk),
        user.email,
        "Wanjiku",
    )

    sent = [r for r in requests_made(browser) if r["url"].endswith("/api/users/profile/")]
    assert [r["method"] for r in sent] == ["GET"]
    headers = {key.lower(): value for key, value in sent[0]["headers"].items()}
    assert headers["authorization"] == f"Bearer {token}"  # what "Authorize" set
    assert_all_local(sent, live_server)
    assert csp_violations(browser) == []


def test_without_authorize_the_same_request_is_401(live_server: Any, browser: Any) -> None:
    """The control for the test above: the 200 comes from the token Swagger UI sent."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, WAIT)
    browser.get(f"{live_server.url}/api/docs/")
    operation = wait.until(
        ec.presence_of_element_located((By.ID, "operations-users-users_profile_retrieve"))
    )
    click(browser, operation.find_element(By.CSS_SELECTOR, ".opblock-summary-control"))
    click(
        browser,
        wait.until(
            ec.element_to_be_clickable(
                (By.CSS_SELECTOR, "#operations-users-users_profile_retrieve .try-out__btn")
            )
        ),
    )
    click(
        browser,
        wait.until(
            ec.element_to_be_clickable(
                (By.CSS_SELECTOR, "#operations-users-users_profile_retrieve button.execute")
            )
        ),
    )
    status = wait.until(
        ec.visibility_of_element_located(
            (
                By.CSS_SELECTOR,
                "#operations-users-users_profile_retrieve .live-responses-table "
                ".response .response-col_status",
            )
        )
    )
    assert status.text.strip() == "401"
    assert_all_local(requests_made(browser), live_server)
    assert csp_violations(browser) == []


def test_the_csp_is_the_one_served(live_server: Any, browser: Any) -> None:
    """What Chromium enforced is the header of tests/browser/test_docs_headers.py."""
    browser.get(f"{live_server.url}/api/docs/")
    responses = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.responseReceived":
            responses.append(message["params"]["response"])
    page = next(r for r in responses if urlsplit(r["url"]).path == "/api/docs/")
    headers = {key.lower(): value for key, value in page["headers"].items()}
    assert headers["content-security-policy"] == DOCS_CSP
