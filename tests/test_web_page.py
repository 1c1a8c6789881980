"""The web page at `/` of `cartoonize serve`, driven in headless Chromium (Debian's chromium
and chromium-driver; `.ci/run` installs them): upload, cartoon, strength, errors, headers."""

import base64
import io
import os
import re
import shutil
import time
import urllib.request

import numpy as np
import pytest
from helpers import PROJECT_ROOT, random_photo, served
from PIL import Image

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
# Where the upload test's screenshot goes (default: the test's temporary folder).
SCREENSHOT_DIR = os.environ.get("CARTOONIZE_TF_SCREENSHOTS")


@pytest.fixture(scope="module")
def server(small_generator, tmp_path_factory):
    with served(small_generator, tmp_path_factory.mktemp("web"), 200 * 200) as running:
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and CHROMEDRIVER):
        message = "headless Chromium not found: apt-get install chromium chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(message + " (.ci/run installs them)")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-sync",
                 "--disable-component-update", "--window-size=1100,900",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def wait_for(driver, script, timeout=120):
    """Polls `script` (JavaScript returning a value) until it is truthy; returns that value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for: {script}")


def canvas_pixels(driver, index=0):
    data_url = driver.execute_script(
        f"return document.querySelectorAll('.card.done canvas')[{index}].toDataURL('image/png')")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])))
                      .convert("RGB"))


def open_page(driver, server):
    driver.get(f"http://127.0.0.1:{server.rest_port}/")
    wait_for(driver, "return document.querySelector('#status').textContent.startsWith('Ready')")


def test_a_photo_becomes_a_cartoon_in_the_browser(server, browser, tmp_path, rng):
    started = time.perf_counter()
    photo = random_photo(rng, 96, 120)
    path = tmp_path / "holiday.png"
    Image.fromarray(photo).save(path)
    open_page(browser, server)
    browser.find_element("css selector", "#files").send_keys(str(path))
    wait_for(browser, "return document.querySelector('.card.done, .card.failed')")
    assert browser.execute_script("return document.querySelectorAll('.card.failed').length") == 0
    cartoon = canvas_pixels(browser)
    assert cartoon.shape == photo.shape
    assert np.abs(cartoon.astype(int) - photo).mean() > 5, "the cartoon must differ from the photo"
    # The page shows the server's own answer at strength 100%.
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.rest_port}/v1/models/cartoonizer:predict",
        data=('{"signature_name": "serving_bytes", "instances": [{"b64": "%s"}]}'
              % base64.b64encode(path.read_bytes()).decode()).encode())
    with urllib.request.urlopen(request, timeout=60) as answer:
        import json

        served = json.load(answer)["predictions"][0]["b64"]
    expected = np.asarray(Image.open(io.BytesIO(base64.b64decode(served))).convert("RGB"))
    assert np.abs(cartoon.astype(int) - expected).max() <= 1
    # Strength 0 gives back the photo.
    browser.execute_script("const s = document.querySelector('#strength'); s.value = 0;"
                           "s.dispatchEvent(new Event('input'));")
    assert np.abs(canvas_pixels(browser).astype(int) - photo).max() <= 1
    assert browser.find_element("css selector", ".card.done .download").get_attribute(
        "download") == "holiday_cartoon.png"
    screenshot = os.path.join(SCREENSHOT_DIR or tmp_path, "web_page_test.png")
    assert browser.save_screenshot(screenshot)
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe  # no CSP violation, no script error
    print(f"browser round trip: {time.perf_counter() - started:.1f} s; screenshot {screenshot}")


def test_a_result_opens_large_and_shows_its_photo_on_demand(server, browser, tmp_path, rng):
    path = tmp_path / "portrait.png"
    Image.fromarray(random_photo(rng, 64, 48)).save(path)
    open_page(browser, server)
    browser.find_element("css selector", "#files").send_keys(str(path))
    wait_for(browser, "return document.querySelector('.card.done')")
    width = browser.execute_script("return document.querySelector('.card').offsetWidth")
    assert width >= 480, "a result is large enough to be looked at"
    browser.find_element("css selector", ".card.done .compare").click()
    assert wait_for(browser, "return document.querySelector('#viewer').open")
    cartoon = browser.execute_script("return document.querySelector('#viewer-image').src")
    assert cartoon == browser.find_element("css selector", ".card.done .download").get_attribute(
        "href")
    browser.find_element("css selector", "#viewer-toggle").click()
    assert browser.execute_script("return document.querySelector('#viewer-image').alt") == "photo"
    assert browser.find_element("css selector", "#viewer-toggle").text == "Show cartoon"
    browser.find_element("css selector", "#viewer-close").click()
    assert not browser.execute_script("return document.querySelector('#viewer').open")
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe


def test_unreadable_and_oversize_photos_are_explained(server, browser, tmp_path, rng):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    huge = tmp_path / "huge.png"
    Image.fromarray(random_photo(rng, 210, 210)).save(huge)  # over the 200 x 200 cap
    open_page(browser, server)
    for path in (broken, huge):
        browser.find_element("css selector", "#files").send_keys(str(path))
        wait_for(browser, "return document.querySelectorAll('.card.failed').length >= %d"
                 % (1 + (path == huge)))
    messages = [m.text for m in browser.find_elements("css selector", ".card.failed .message")]
    assert any("huge.png" in m and "at most 40,000 pixels" in m for m in messages), messages
    assert any("broken.png" in m and "not an image" in m for m in messages), messages


def test_the_page_is_served_with_a_content_security_policy(server):
    with urllib.request.urlopen(f"http://127.0.0.1:{server.rest_port}/", timeout=30) as answer:
        policy = answer.headers["Content-Security-Policy"]
        page = answer.read().decode()
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "no inline scripts"
    assert not re.search(r"\son[a-z]+=", page), "no inline event handlers"
    with urllib.request.urlopen(f"http://127.0.0.1:{server.rest_port}/config.json",
                                timeout=30) as answer:
        import json

        config = json.load(answer)
    assert config == {"model": "cartoonizer", "max_pixels": 200 * 200,
                      "max_body_bytes": server.rest_server.max_body_bytes}


def test_head_answers_like_get_without_a_body(server):
    import http.client

    for path in ("/", "/v1/models/cartoonizer"):
        connection = http.client.HTTPConnection("127.0.0.1", server.rest_port, timeout=30)
        connection.request("HEAD", path)
        answer = connection.getresponse()
        assert answer.status == 200, path
        assert answer.read() == b""
        connection.close()


def test_the_page_ships_inside_the_package():
    web = PROJECT_ROOT / "cartoonize_tf" / "serving" / "web"
    assert {p.name for p in web.iterdir()} >= {"index.html", "app.js", "style.css", "icon.svg"}
    setup = (PROJECT_ROOT / "setup.cfg").read_text()
    assert "web/*.html, web/*.js, web/*.css, web/*.svg" in setup


def test_the_zip_of_all_cartoons_opens_with_zipfile(server, browser):
    import zipfile

    open_page(browser, server)
    encoded = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const blob = zipArchive([["a_cartoon.png", new Uint8Array([1, 2, 3])],
                                 ["ü_cartoon.png", new TextEncoder().encode("hello")]]);
        const reader = new FileReader();
        reader.onload = () => done(reader.result.split(",")[1]);
        reader.readAsDataURL(blob);""")
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(encoded)))
    assert archive.testzip() is None  # every CRC matches
    assert archive.namelist() == ["a_cartoon.png", "ü_cartoon.png"]
    assert archive.read("ü_cartoon.png") == b"hello"
