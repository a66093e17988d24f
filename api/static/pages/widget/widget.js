// ledgerdesk widget loader: pasted into a website's pages as
//   <script src="https://desk.example.com/widget.js" data-ledgerdesk-widget="<id>" async></script>
// It asks the install (the origin it was loaded from, and nothing else) for the widget's
// face, shows a launcher, and on the first click opens the widget's frame. Styles are set
// through the DOM (no <style> element, so a host page's CSP need not allow inline style),
// inside a shadow root so that the host page's styles do not reach the launcher.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.ledgerdeskWidget) {
    return;
  }
  var widgetId = script.getAttribute("data-ledgerdesk-widget") || "";
  var base = script.src.replace(/\/widget\.js(?:[?#].*)?$/, "");
  var api = { open: open, close: close, toggle: toggle };
  window.ledgerdeskWidget = api;
  var launcher = null;
  var frame = null;
  var face = null;

  function style(element, values) {
    Object.keys(values).forEach(function (name) { element.style.setProperty(name, values[name]); });
  }

  function show(found) {
    face = found;
    var host = document.createElement("div");
    host.setAttribute("data-ledgerdesk", "widget");
    style(host, { position: "fixed", right: "20px", bottom: "20px", "z-index": "2147483000" });
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    launcher = document.createElement("button");
    launcher.type = "button";
    launcher.textContent = "?";
    launcher.setAttribute("aria-label", found.brand.name + " support");
    launcher.setAttribute("aria-expanded", "false");
    style(launcher, {
      width: "56px", height: "56px", "border-radius": "50%", border: "0", cursor: "pointer",
      background: found.brand.button_colour || "#0a4cb5", color: "#fff", font: "600 24px/1 system-ui, sans-serif",
      "box-shadow": "0 4px 14px rgba(0,0,0,.25)"
    });
    launcher.addEventListener("click", toggle);
    root.appendChild(launcher);
    document.body.appendChild(host);
    window.addEventListener("message", function (event) {
      if (frame && event.source === frame.contentWindow && event.origin === new URL(base).origin
          && event.data && event.data.ledgerdesk === "close") {
        close();
      }
    });
  }

  function open() {
    if (!launcher) {
      return;
    }
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = base + "/widget/" + encodeURIComponent(widgetId);
      frame.title = face.brand.name + " support";
      frame.setAttribute("data-ledgerdesk", "frame");
      style(frame, {
        position: "fixed", right: "20px", bottom: "88px", width: "380px", height: "600px",
        "max-width": "calc(100vw - 40px)", "max-height": "calc(100vh - 108px)", border: "0",
        "border-radius": "12px", "box-shadow": "0 8px 32px rgba(0,0,0,.3)", background: "#fff",
        "z-index": "2147483000"
      });
      document.body.appendChild(frame);
    }
    frame.style.setProperty("display", "block");
    launcher.setAttribute("aria-expanded", "true");
    launcher.textContent = "×";
  }

  function close() {
    if (frame) {
      frame.style.setProperty("display", "none");
    }
    if (launcher) {
      launcher.setAttribute("aria-expanded", "false");
      launcher.textContent = "?";
      launcher.focus();
    }
  }

  function toggle() {
    if (frame && frame.style.getPropertyValue("display") !== "none") {
      close();
    } else {
      open();
    }
  }

  fetch(base + "/api/v1/widgets/" + encodeURIComponent(widgetId), { credentials: "omit" })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (found) {
      if (found && found.tabs && found.tabs.length) {
        if (document.body) {
          show(found);
        } else {
          document.addEventListener("DOMContentLoaded", function () { show(found); });
        }
      }
    })
    .catch(function () { /* The install is out of reach: no launcher. */ });
})();
