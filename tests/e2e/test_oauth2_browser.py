"""The built-in web client's accounts in a real browser (Debian's chromium via playwright): the "Log in with …"
button through the real OpenID Connect provider's login and consent pages and back, logged in, with the
binding on the account page; e-mail signup and the password-reset link against a real SMTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from synctv.api.captcha import store_key
from synctv.core.permissions import Role
from synctv.store.email_codes import key_hash
from synctv.store.models import EmailCode
from tests.api.test_email import code_in, enable_email
from tests.support import browser_support as bs
from tests.support.api_client import Api
from tests.support.oidc_server import OidcServer, configure
from tests.support.servers import Server, start_server
from tests.support.smtp_server import SmtpServer

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


async def captcha_answer(server: Server, captcha_id: str) -> str:
    from sqlalchemy import select

    async with server.store.engine.connect() as conn:
        return str(await conn.scalar(select(EmailCode.code).where(
            EmailCode.key_hash == key_hash(store_key(captcha_id)))))


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Server]:
    bs.require_browser_tools()
    runtime, base = await start_server(tmp_path / "data")
    async with aiohttp.ClientSession() as session:
        yield Server(runtime, Api(base, session))
    await runtime.stop()


async def test_log_in_with_the_provider_button(site: Server, oidc_provider: OidcServer) -> None:
    await configure(site.api, await site.make_user("boss", Role.ROOT), oidc_provider, name="corp")
    async with bs.chromium() as browser:
        page = await bs.new_page(browser)
        try:
            await bs.open_app(page, site.api.base)
            assert await page.evaluate("() => location.hash") == "#/login"
            button = page.locator("[data-testid=oauth2-login-corp]")
            await button.wait_for(state="visible")
            assert await button.text_content() == "Log in with Corp"
            await button.click()
            # The provider's own login page.
            await page.wait_for_url(f"{oidc_provider.issuer}/interaction/**")
            await page.fill("input[name=login]", "browser-user")
            await page.fill("input[name=password]", "whatever")
            await page.click("button[type=submit]")
            # Its consent page.
            await page.wait_for_selector("text=Authorize")
            await page.click("button[type=submit]")
            # Back in the web client, logged in.
            await page.wait_for_url(f"{site.api.base}/web/**")
            await page.wait_for_function(
                "() => document.getElementById('current-user').textContent === 'browser-user'")
            assert await page.evaluate("() => location.hash") == "#/rooms"
            assert await page.evaluate("() => localStorage.getItem('userToken')")
            await page.click("[data-testid=nav-account]")
            item = page.locator("[data-testid=provider-corp]")
            await item.wait_for(state="visible")
            assert await item.get_attribute("data-bound") == "true"
            assert "browser-user" in (await item.text_content() or "")
            path = await bs.screenshot(page, "oauth2-account-desktop.png", bs.DESKTOP)
            print(f"\nscreenshot: {path}")
        except BaseException:
            print("--- console:\n" + "\n".join(page.console_messages[-40:]))
            raise


async def test_email_signup_and_the_reset_link(site: Server) -> None:
    smtp = SmtpServer()
    smtp.start()
    try:
        await enable_email(site, smtp)
        async with bs.chromium() as browser:
            page = await bs.new_page(browser)
            try:
                await bs.open_app(page, site.api.base)
                await page.wait_for_selector("[data-testid=email-signup-form]", state="visible")
                await page.wait_for_function(
                    "() => document.getElementById('email-signup-captcha').dataset.captchaId")
                captcha_id = await page.evaluate(
                    "() => document.getElementById('email-signup-captcha').dataset.captchaId")
                await bs.screenshot(page, "login-email-forms-desktop.png", bs.DESKTOP, full_page=True)
                await page.fill("#email-signup-email", "web-user@gmail.com")
                await page.fill("#email-signup-answer", await captcha_answer(site, captcha_id))
                await page.click("[data-testid=email-signup-send]")
                await page.wait_for_selector("[data-testid=toast]:has-text('A code was sent')")
                code = code_in(smtp.inbox.to("web-user@gmail.com")[0])
                await page.fill("#email-signup-code", code)
                await page.fill("#email-signup-password", "first-pass1")
                await page.click("[data-testid=email-signup-submit]")
                await page.wait_for_function(
                    "() => document.getElementById('current-user').textContent === 'web-user@gmail.com'")
                await page.click("[data-testid=nav-account]")
                await page.wait_for_selector("[data-testid=account-email]:has-text('web-user@gmail.com')")

                # The link of a password-reset mail opens the reset form, filled in.
                await page.click("#logout-button")
                _, body = await site.api.call("GET", "/api/user/retrieve/email/captcha")
                answer = await captcha_answer(site, body["data"]["captchaId"])
                await site.api.ok("POST", "/api/user/retrieve/email/captcha", expect=204, json={
                    "email": "web-user@gmail.com", "captchaId": body["data"]["captchaId"], "answer": answer})
                mail = smtp.inbox.to("web-user@gmail.com")[1]
                text = mail.get_body(("plain",))
                assert text is not None
                link = next(w for w in text.get_content().split() if "/web/auth/reset?" in w)
                await page.goto(link)
                await page.wait_for_selector("body[data-ready=true]", state="attached")
                assert await page.input_value("#reset-code") == code_in(mail)
                assert await page.input_value("#reset-email") == "web-user@gmail.com"
                await page.fill("#reset-password", "second-pass1")
                await page.click("[data-testid=reset-submit]")
                await page.wait_for_function(
                    "() => document.getElementById('current-user').textContent === 'web-user@gmail.com'")
                assert await site.api.login("web-user@gmail.com", "second-pass1")
                path = await bs.screenshot(page, "email-reset-desktop.png", bs.DESKTOP)
                print(f"\nscreenshot: {path}")
            except BaseException:
                print("--- console:\n" + "\n".join(page.console_messages[-40:]))
                raise
    finally:
        smtp.stop()
