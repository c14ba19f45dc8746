"""The workbench in a real browser, over WebDriver (Debian's chromium and chromium-driver, Python
selenium): an analyst signs in, opens a unit's brief, triages and verifies a clue through the
page's forms and downloads the brief's workbook; a team member is refused another township's
clue by URL. Screenshots of the clue list, a clue and a brief at 1366x768 and 375 px go to OUT.

usage: browser.py BASE_URL OUT_DIR PASSWORD CLUE_IN_SCOPE CLUE_OUT_OF_SCOPE UNIT
Prints one JSON object of what it saw; exits non-zero on the first thing that is not so.
"""

import json
import sys
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

base, out, password, clue, other, unit = sys.argv[1:7]
seen = {}


def check(cond, what):
    if not cond:
        print(json.dumps({"failed": what, "seen": seen}, ensure_ascii=False))
        sys.exit(1)


options = webdriver.ChromeOptions()
for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1366,768", "--disable-dev-shm-usage"]:
    options.add_argument(a)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(60)


def sign_in(name):
    driver.get(base + "/login")
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(password)
    submit(driver.find_element(By.TAG_NAME, "form"))
    check(driver.current_url.endswith("/clues"), f"{name} signed in and sent to the clue list: {driver.current_url}")


def gone(form):
    """Whether the form's page has been replaced. Chromium 148 answers a node of an unloaded
    document with an inspector error ("Node with given id does not belong to the document")
    rather than a stale-element error, which `EC.staleness_of` does not take for "gone"."""

    def stale(_driver):
        try:
            return EC.staleness_of(form)(_driver)
        except WebDriverException as e:
            if "does not belong to the document" in str(e) or "No node with given id" in str(e):
                return True
            raise

    return stale


def submit(form):
    """Submits a form and waits for the page it leads to."""
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 30).until(gone(form))


def form_of(legend):
    for f in driver.find_elements(By.TAG_NAME, "form"):
        if legend in f.text:
            return f
    check(False, f"a form 「{legend}」 on {driver.current_url}")


def shots(name):
    for w, h in [(1366, 768), (375, 812)]:
        driver.set_window_size(w, h)
        driver.save_screenshot(f"{out}/{name}-{w}.png")
    driver.set_window_size(1366, 768)


try:
    sign_in("ana")
    seen["scripts"] = driver.execute_script("return document.scripts.length")
    shots("webdriver-clues")

    driver.get(f"{base}/units/{unit}")
    seen["brief_title"] = driver.title
    check("巡前情况通报" in driver.title, "the brief opens")
    shots("webdriver-brief")
    # the brief's workbook, downloaded with the browser's session
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    req = urllib.request.Request(f"{base}/units/{unit}?format=xlsx", headers={"Cookie": cookie})
    with urllib.request.urlopen(req) as r:
        body = r.read()
        seen["xlsx_type"] = r.headers.get("Content-Type")
    path = f"{out}/brief-{unit}.xlsx"
    open(path, "wb").write(body)
    import openpyxl

    book = openpyxl.load_workbook(path)
    seen["xlsx_sheets"] = book.sheetnames
    check(len(book.sheetnames) >= 1, "the workbook opens")

    driver.get(f"{base}/clues/{clue}")
    f = form_of("研判")
    f.find_element(By.NAME, "route_to").send_keys("甲镇纪委")
    submit(f)
    check(driver.current_url.endswith(f"/clues/{clue}"), "back on the clue after the triage")
    f = form_of("核实")
    Select(f.find_element(By.NAME, "result")).select_by_value("属实")
    f.find_element(By.NAME, "amount_involved").send_keys("100.10")
    submit(f)
    body = driver.find_element(By.TAG_NAME, "body").text
    seen["trail"] = [line for line in body.splitlines() if "研判" in line or "核实" in line][:6]
    check("核实结论: 属实" in body and "分流至甲镇纪委" in body, "the trail shows the triage and the verification")
    shots("webdriver-clue")

    driver.get(base + "/logout")
    submit(driver.find_element(By.TAG_NAME, "form"))
    check(driver.current_url.endswith("/login"), "signed out")

    sign_in("wang")
    driver.get(f"{base}/clues/{other}")
    seen["refused_title"] = driver.title
    check(driver.title == "没有找到", "another township's clue is not found for a team member")
    driver.get(f"{base}/clues/{clue}")
    check("核实结论: 属实" in driver.find_element(By.TAG_NAME, "body").text, "the team member sees the clue of their unit")
finally:
    driver.quit()

print(json.dumps(seen, ensure_ascii=False))
