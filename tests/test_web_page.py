"""The web page at `/` of `cartoonize serve`, driven in headless Chromium (Debian's chromium
and chromium-driver; `.ci/run` installs them): upload, cartoon, strength, errors, headers, and
the look panel's live preview."""

import base64
import io
import json
import os
import re
import shutil
import time
import urllib.request

import numpy as np
import pytest
from helpers import FLAT_TONES, PROJECT_ROOT, random_photo, served
from PIL import Image

from cartoonize_tf.contract.look import CONTROLS, PRESETS

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
    return decoded_data_url(driver.execute_script(
        f"return document.querySelectorAll('.card.done canvas')[{index}].toDataURL('image/png')"))


def decoded_data_url(data_url):
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
    web = PROJECT_ROOT / "cartoonize_tf" / "serving" / "rest" / "web"
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


# The look panel (a model with a cel stage has the look signatures).

@pytest.fixture(scope="module")
def shaded_server(shaded_generator, tmp_path_factory):
    with served(shaded_generator, tmp_path_factory.mktemp("web_look"), 200 * 200) as running:
        yield running


def page_config(server):
    with urllib.request.urlopen(f"http://127.0.0.1:{server.rest_port}/config.json",
                                timeout=30) as answer:
        return json.load(answer)


def served_cartoon(server, path, look):
    """The server's own answer for the photo at `path`: serving_bytes for no `look` (the
    model's own), else serving_look_bytes with the controls in `look`."""
    image = {"b64": base64.b64encode(path.read_bytes()).decode()}
    body = ({"signature_name": "serving_look_bytes", "inputs": {"image_bytes": [image], **look}}
            if look else {"signature_name": "serving_bytes", "instances": [image]})
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.rest_port}/v1/models/cartoonizer:predict",
        data=json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=60) as answer:
        answer = json.load(answer)
    encoded = (answer.get("predictions") or answer["outputs"])[0]["b64"]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGB"))


def move_slider(driver, name, value, events=("input", "change")):
    """Sets the `name` control's slider to `value` as a user would, with its `events`."""
    driver.execute_script("const slider = document.getElementById(arguments[0]);"
                          "slider.value = arguments[1];"
                          "for (const name of arguments[2]) slider.dispatchEvent(new Event(name));",
                          f"look-{name}", value, list(events))


def sliders(driver):
    return {name: float(driver.find_element("id", f"look-{name}").get_attribute("value"))
            for name in CONTROLS}


def wait_for_look(driver, look, timeout=60):
    """Waits until the current card shows, at full size, the cartoon of `look` (the controls
    that differ from the model's own)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        shown = driver.execute_script(
            "const card = document.querySelector('.card.current');"
            "return card && !card.classList.contains('redrawing') ? card.dataset.look : null")
        if shown is not None and json.loads(shown) == look:
            return
        time.sleep(0.1)
    raise AssertionError(f"the current card never showed the look {look} (it shows {shown})")


def current_pixels(driver):
    return decoded_data_url(driver.execute_script(
        "return document.querySelector('.card.current canvas').toDataURL('image/png')"))


def current_download(driver):
    """The current card's download and its ZIP entry (the blob behind both), as pixels."""
    data_url = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const reader = new FileReader();
        reader.onload = () => done(reader.result);
        reader.readAsDataURL(currentCard().blob);""")
    assert driver.execute_script("return currentCard().url === "
                                 "document.querySelector('.card.current .download').href")
    return decoded_data_url(data_url)


def differences(look, own):
    return {name: value for name, value in look.items() if value != own[name]}


def test_the_look_sliders_redraw_the_latest_photo(shaded_server, browser, tmp_path, rng):
    own = {entry["name"]: entry["default"] for entry in page_config(shaded_server)["look"]["controls"]}
    street, beach = tmp_path / "street.png", tmp_path / "beach.png"
    Image.fromarray(random_photo(rng, 96, 120)).save(street)
    Image.fromarray(random_photo(rng, 40, 600)).save(beach)  # longer than a preview's side
    open_page(browser, shaded_server)
    assert browser.find_element("id", "look").is_displayed()
    assert sliders(browser) == own
    for name, control in CONTROLS.items():
        slider = browser.find_element("id", f"look-{name}")
        assert (float(slider.get_attribute("min")), float(slider.get_attribute("max"))) == (
            control.low, control.high)
    browser.find_element("css selector", "#files").send_keys(str(street))
    wait_for_look(browser, {})
    assert street.name in browser.find_element("id", "look-target").text
    assert np.abs(current_pixels(browser).astype(int) - served_cartoon(shaded_server, street, {})
                  ).max() <= 1

    # Tones skips 1, the way the slider moved; a slider dragged, then let go, redraws.
    move_slider(browser, "tones", 1, ["input"])
    assert sliders(browser)["tones"] == 2
    move_slider(browser, "tones", own["tones"])
    move_slider(browser, "lines", 2, ["input"])
    time.sleep(0.3)  # that redraw starts; the next replaces it
    move_slider(browser, "lines", 3)
    move_slider(browser, "colour", 0)
    look = {"lines": 3, "colour": 0}
    wait_for_look(browser, look)
    expected = served_cartoon(shaded_server, street, look)
    assert np.abs(expected.astype(int) - served_cartoon(shaded_server, street, {})).max() > 30
    assert np.abs(current_pixels(browser).astype(int) - expected).max() <= 1
    assert np.abs(current_download(browser).astype(int) - expected).max() <= 1
    assert "lines 3.0, colour 0.0" in browser.find_element("css selector", ".card.current .message").text

    # A preset sets the sliders; a new photo is drawn with the look and becomes the current one.
    browser.find_element("css selector", "#look-presets [data-preset=bold]").click()
    bold = {**own, **PRESETS["bold"]}
    assert sliders(browser) == bold
    assert browser.find_element("css selector", "[data-preset=bold]").get_attribute(
        "aria-pressed") == "true"
    wait_for_look(browser, differences(bold, own))
    browser.find_element("css selector", "#files").send_keys(str(beach))
    wait_for(browser, "return document.querySelectorAll('.card.done').length === 2")
    wait_for_look(browser, differences(bold, own))
    current = browser.find_element("css selector", ".card.current")
    assert beach.name in current.find_element("css selector", ".name").text
    assert "drag the slider" in current.find_element("css selector", ".message").text, \
        "drawn with the look at once, not redrawn after"
    bold_picture = served_cartoon(shaded_server, beach, differences(bold, own))
    assert np.abs(current_pixels(browser).astype(int) - bold_picture).max() <= 1

    # Dragging a large photo's slider previews a scaled-down copy; the download stays full size.
    move_slider(browser, "lines", 0.5, ["input"])
    wait_for(browser, "const card = document.querySelector('.card.current');"
                      "return !card.classList.contains('redrawing') && "
                      "card.querySelector('.message').textContent.includes('preview')")
    assert current_pixels(browser).shape == bold_picture.shape
    assert np.abs(current_download(browser).astype(int) - bold_picture).max() <= 1

    # Reset: the model's own look, exactly serving_bytes's picture.
    browser.find_element("id", "look-reset").click()
    assert sliders(browser) == own
    wait_for_look(browser, {})
    own_picture = served_cartoon(shaded_server, beach, {})
    assert np.abs(current_pixels(browser).astype(int) - own_picture).max() <= 1
    assert np.abs(current_download(browser).astype(int) - own_picture).max() <= 1

    # A value the server refuses: the card says why and keeps its cartoon.
    browser.execute_script("document.getElementById('look-lines').max = 5")
    move_slider(browser, "lines", 5)
    wait_for(browser, "return document.querySelector('.card.current.redraw-failed')", 60)
    message = browser.find_element("css selector", ".card.current .message").text
    assert "lines must be a number from 0 to 3, got 5" in message, message
    assert np.abs(current_pixels(browser).astype(int) - own_picture).max() <= 1
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"
              and "400 (Bad Request)" not in entry["message"]]
    assert not severe, severe


def test_config_describes_the_look_of_the_version_served_now(small_generator, server, tmp_path):
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    from cartoonize_tf.contract.layout import newest_version
    from cartoonize_tf.contract.signatures import LOOK_BYTES_SIGNATURE
    from cartoonize_tf.models.loading import generator_copy

    restyled = generator_copy(small_generator, cel_shading={
        **FLAT_TONES, "levels": 5, "line_strength": 2.0, "line_width": 2, "saturation": 0.5})
    with served(restyled, tmp_path, 200 * 200, poll_seconds=0.2) as running:
        look = page_config(running)["look"]
        proto = saved_model_pb2.SavedModel()
        proto.ParseFromString((tmp_path / "cartoonizer" / "1" / "saved_model.pb").read_bytes())
        defaults = proto.meta_graphs[0].signature_def[LOOK_BYTES_SIGNATURE].defaults
        own = {name: tf.make_ndarray(value).item() for name, value in defaults.items()}
        assert own != {name: control.default for name, control in CONTROLS.items()}
        assert look["signature"] == LOOK_BYTES_SIGNATURE
        assert [entry["name"] for entry in look["controls"]] == list(CONTROLS)
        for entry in look["controls"]:
            control = CONTROLS[entry["name"]]
            assert (entry["low"], entry["high"], entry["excluded"], entry["meaning"]) == (
                control.low, control.high, list(control.excluded), control.meaning)
            assert (entry["step"] == 1) if control.integer else (0 < entry["step"] < 1)
            assert entry["label"] and entry["default"] == own[entry["name"]]
        assert look["presets"] == PRESETS
        # A new version without the stage is served: from then on the page has no look. (The
        # module's server exported one already: copied under a temporary name, then renamed.)
        plain = newest_version(server.registry.base_path)
        shutil.copytree(plain, tmp_path / "cartoonizer" / ".2.partial")
        (tmp_path / "cartoonizer" / ".2.partial").rename(tmp_path / "cartoonizer" / "2")
        deadline = time.time() + 60
        while "look" in page_config(running):
            assert time.time() < deadline, "the new version's config never came"
            time.sleep(0.2)


def test_a_model_without_the_stage_has_no_look_panel(server, browser):
    assert "look" not in page_config(server)
    open_page(browser, server)
    assert not browser.find_element("id", "look").is_displayed()
    assert browser.find_elements("css selector", "#look-controls input") == []
