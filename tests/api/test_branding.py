"""The company's logo, uploaded: served from the install to the portal, the widget and mail;
only images (told by their content) and small ones; removed, it is gone; no other file of
the blob store is served in its place."""

from __future__ import annotations

import hashlib

from fastapi.testclient import TestClient

from ledgerdesk import bootstrap
from tests.api.test_widgets import widget
from tests.factories import user_token

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_an_uploaded_logo_brands_the_pages_and_mail_until_removed(
    client: TestClient, live: bootstrap.Container
) -> None:
    sha = hashlib.sha256(PNG).hexdigest()
    uploaded = client.put(
        "/api/v1/admin/branding/logo", files={"file": ("logo.bin", PNG, "application/octet-stream")}
    )
    assert uploaded.status_code == 200, uploaded.text
    url = uploaded.json()["logo_url"]
    assert url.endswith(f"/brand/logo/{sha}")
    served = client.get(f"/brand/logo/{sha}")
    assert (served.status_code, served.headers["content-type"], served.content) == (
        200,
        "image/png",
        PNG,
    )
    assert served.headers["x-content-type-options"] == "nosniff"
    # The pages and mail show it
    assert f'src="{url}"' in client.get("/kb").text
    preview = client.post("/api/v1/mail/templates/acknowledgement/preview").json()
    assert url in preview["html"]
    # A PUT of the mail settings that leaves the address as it was keeps it
    settings = client.get("/api/v1/mail/settings").json()
    kept = client.put("/api/v1/mail/settings", json={**settings, "smtp": None})
    assert kept.json()["logo_url"] == url
    assert client.get(f"/brand/logo/{sha}").status_code == 200
    # Another file of the blob store is not served as a logo
    number = client.post("/api/v1/tickets", json={"title": "T"}).json()["number"]
    client.post(f"/api/v1/tickets/{number}/attachments", files={"file": ("a.txt", b"secret")})
    other = hashlib.sha256(b"secret").hexdigest()
    assert client.get(f"/brand/logo/{other}").status_code == 404
    # Removed, it is gone
    removed = client.delete("/api/v1/admin/branding/logo")
    assert removed.json()["logo_url"] is None
    assert client.get(f"/brand/logo/{sha}").status_code == 404


def test_only_small_images_are_taken_and_only_from_admins(
    client: TestClient, live: bootstrap.Container
) -> None:
    head = live.app.head()
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for name, body in (("logo.svg", svg), ("logo.png", b"not an image"), ("big.png", PNG * 9000)):
        refused = client.put("/api/v1/admin/branding/logo", files={"file": (name, body)})
        assert refused.status_code == 422, (name, refused.text)
        assert refused.json()["errors"][0]["location"][-1] == "file"
    assert live.app.head() == head
    member = {"Authorization": f"Bearer {user_token(live, 'm@example.com')}"}
    denied = client.put(
        "/api/v1/admin/branding/logo", files={"file": ("l.png", PNG)}, headers=member
    )
    assert denied.status_code == 403


def test_the_brand_colours_style_the_pages_and_the_widget_and_buttons_stay_readable(
    client: TestClient, live: bootstrap.Container
) -> None:
    shipped = client.get("/assets/brand.css").text
    assert shipped == ":root { --brand: #1f6feb; --button: #0a4cb5; }\n"
    settings = {**client.get("/api/v1/mail/settings").json(), "smtp": None}
    assert settings["button_colour"] == "#0a4cb5"
    # A button colour white text cannot be read on is refused, naming the contrast
    head = live.app.head()
    pale = client.put("/api/v1/mail/settings", json={**settings, "button_colour": "#ffcc00"})
    assert pale.status_code == 422
    assert pale.json()["detail"].startswith("button_colour: white text on #ffcc00 contrasts 1.51:1")
    assert live.app.head() == head
    # One that can is used by the pages' buttons, the widget's launcher and mail's templates
    dark = client.put(
        "/api/v1/mail/settings", json={**settings, "colour": "#ffcc00", "button_colour": "#7a1fa2"}
    )
    assert dark.status_code == 200, dark.text
    assert dark.json()["button_colour"] == "#7a1fa2"
    assert client.get("/assets/brand.css").text == (
        ":root { --brand: #ffcc00; --button: #7a1fa2; }\n"
    )
    made = widget(client, "https://www.example.com")
    face = client.get(f"/api/v1/widgets/{made['id']}", headers={"Authorization": ""}).json()
    assert face["brand"]["button_colour"] == "#7a1fa2"
    draft = {"subject": "S", "html": "<p>{{ company.button_colour }}</p>", "text": "t"}
    preview = client.post("/api/v1/mail/templates/acknowledgement/preview", json=draft)
    assert "#7a1fa2" in preview.json()["html"]
