"""Headless Chromium for the course's browser tests: Debian's chromium,
driven by chromedriver through Debian's python3-selenium."""

import sys


def fail(tool, message, status=1):
    """Ends a check with one line, naming \\p tool."""
    print(f"{tool}: {message}", file=sys.stderr)
    sys.exit(status)


def browser(tool):
    """A headless Chromium session that keeps the page's console log; ends
    \\p tool's check with status 2 when it cannot be started."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        fail(tool, "python3-selenium is not installed (apt-get install python3-selenium)", 2)
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    except Exception as error:  # the driver's own exceptions vary between versions
        fail(tool, f"cannot start headless Chromium: {str(error).splitlines()[0]}", 2)


def console_errors(driver):
    """The errors the page logged to the browser's console."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
