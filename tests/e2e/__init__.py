"""End-to-end tests: a real browser (Debian's Chromium driven by Playwright) against the app on loopback."""
