// ledgerdesk widget frame: the customer app's tabs inside a website's page, over the portal's
// JSON API. A frame on another site gets no cookie of ours, so the customer's session token
// (ldc_) and an anonymous chat's token (ldk_) are kept in this frame's storage (the browser
// keeps it apart per host site) and sent as bearer tokens. Texts come from the page (it is
// translated); this script has none of its own.
(function () {
  "use strict";
  var body = document.body;
  var widgetId = body.dataset.widget;
  var anonymousChats = body.dataset.anonymousChats === "yes";
  var memory = {};
  var store = {
    get: function (key) {
      try { return JSON.parse(window.localStorage.getItem(key) || "null"); }
      catch (e) { return memory[key] || null; }
    },
    set: function (key, value) {
      memory[key] = value;
      try {
        if (value === null) { window.localStorage.removeItem(key); }
        else { window.localStorage.setItem(key, JSON.stringify(value)); }
      } catch (e) { /* Storage refused (a browser's setting): this page's memory only. */ }
    }
  };
  var SESSION = "ledgerdesk:" + widgetId + ":session";
  var CHAT = "ledgerdesk:" + widgetId + ":chat";

  function $(selector, within) { return (within || document).querySelector(selector); }
  function $$(selector, within) { return Array.prototype.slice.call((within || document).querySelectorAll(selector)); }
  function text(key, values) {
    var found = $("[data-text='" + key + "']");
    var out = found ? found.textContent : key;
    Object.keys(values || {}).forEach(function (name) { out = out.replace("{" + name + "}", values[name]); });
    return out;
  }
  function showError(message) {
    var box = $("[data-error]");
    if (!box) { return; }
    box.textContent = message || "";
    box.hidden = !message;
  }

  // --- the API ---------------------------------------------------------------------------

  function session() {
    var found = store.get(SESSION);
    if (found && found.expires_at && Date.parse(found.expires_at) <= Date.now()) {
      store.set(SESSION, null);
      return null;
    }
    return found;
  }

  // Whether the customer who made a call is still the one signed in: an answer that comes
  // back after they signed out (or someone else signed in) shows nothing of theirs.
  function stillSignedIn(current) {
    var now = session();
    return !!current && !!now && now.token === current.token;
  }

  function call(method, path, payload, token) {
    var headers = { "Accept": "application/json" };
    var parts = payload instanceof FormData;  // A file: the browser sets its content type.
    if (payload !== undefined && !parts) { headers["Content-Type"] = "application/json"; }
    if (token) { headers.Authorization = "Bearer " + token; }
    return fetch(path, {
      method: method, headers: headers, credentials: "omit",
      body: payload === undefined || parts ? payload : JSON.stringify(payload)
    }).then(function (response) {
      if (response.status === 401 && token && session() && token === session().token) {
        store.set(SESSION, null);
        forgetSignedIn();
      }
      var type = response.headers.get("content-type") || "";
      var parsed = type.indexOf("json") >= 0 ? response.json() : Promise.resolve(null);
      return parsed.then(function (json) { return { status: response.status, json: json }; });
    });
  }

  function failed(answer) {
    var detail = answer && answer.json && answer.json.detail;
    showError(answer && answer.status === 429 ? text("throttled") : (detail || text("failed")));
  }

  // --- tabs ------------------------------------------------------------------------------

  var tabs = $$("[role=tab]");
  function select(name) {
    tabs.forEach(function (tab) {
      var on = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      var panel = $("#panel-" + tab.dataset.tab);
      if (panel) { panel.hidden = !on; }
    });
    showError("");
    if (name === "my_requests" && session()) { loadRequests(); }
    if (name === "help") { searchArticles(""); }
  }
  tabs.forEach(function (tab, index) {
    tab.tabIndex = index === 0 ? 0 : -1;
    tab.addEventListener("click", function () { select(tab.dataset.tab); });
    tab.addEventListener("keydown", function (event) {
      var step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
      if (step) {
        var next = tabs[(index + step + tabs.length) % tabs.length];
        next.focus();
        select(next.dataset.tab);
      }
    });
  });
  $$("[data-action=close]").forEach(function (button) {
    button.addEventListener("click", function () {
      window.parent.postMessage({ ledgerdesk: "close" }, "*");
    });
  });

  // --- signing in ------------------------------------------------------------------------

  // Nothing of a customer who signed out (or whose session ended) stays on the screen: their
  // requests, and their chat unless it is an anonymous one (which has a token of its own).
  function forgetSignedIn() {
    var chat = store.get(CHAT);
    if (chat && !chat.token) {
      if (stream) { stream.abort(); }
      store.set(CHAT, null);
      if (hasChat) {
        resetChat();
        chatView(false);
      }
    }
    $$(".request-list, [data-request-messages]").forEach(function (list) { list.textContent = ""; });
    // The knowledge base as anyone sees it: not the articles their organisation may read.
    if ($("[data-articles]")) {
      $("[data-articles]").textContent = "";
      $("[data-article-body]").textContent = "";
      searchArticles($("#help-q").value.trim());
    }
    refreshSignedIn();
  }

  function refreshSignedIn() {
    var signedIn = !!session();
    $$("[data-needs-session]").forEach(function (part) { part.hidden = !signedIn; });
    $$("[data-needs-sign-in]").forEach(function (part) { part.hidden = signedIn; });
    var anonymousPart = $("[data-anonymous]");
    if (anonymousPart) { anonymousPart.hidden = signedIn || !anonymousChats; }
    var prompt = $("[data-sign-in-to-chat]");
    if (prompt) { prompt.hidden = signedIn || anonymousChats; }
    var start = $("[data-form=chat-start]");
    if (start) {
      $$("input, textarea, button", start).forEach(function (field) {
        field.disabled = !signedIn && !anonymousChats;
      });
      $$("[data-anonymous] input", start).forEach(function (field) {
        field.required = !signedIn && anonymousChats;
      });
    }
  }

  function onForm(name, handler) {
    var form = $("[data-form=" + name + "]");
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.dataset.busy) { return; }
      form.dataset.busy = "1";
      showError("");
      new Promise(function (done) { done(handler(form)); })
        .catch(function () { showError(text("failed")); })
        .then(function () { delete form.dataset.busy; });
    });
  }

  onForm("sign-in", function (form) {
    var payload = { email: form.elements.email.value, password: form.elements.password.value };
    return call("POST", "/api/v1/portal/session", payload).then(function (answer) {
      if (answer.status !== 201) {
        showError(answer.status === 429 ? text("throttled") : text("wrong-sign-in"));
        return;
      }
      store.set(SESSION, { token: answer.json.access_token, expires_at: answer.json.expires_at });
      form.reset();
      refreshSignedIn();
      loadRequests();
    });
  });

  $$("[data-action=sign-out]").forEach(function (button) {
    button.addEventListener("click", function () {
      var current = session();
      store.set(SESSION, null);
      forgetSignedIn();
      if (current) { call("DELETE", "/api/v1/portal/session", undefined, current.token); }
    });
  });

  // --- chat ------------------------------------------------------------------------------

  var stream = null;
  var seen = {};
  var hasChat = !!$("[data-panel=chat]");  // No Chat tab (its app is off): no chat here.

  function chatToken(chat) {
    if (chat.token) { return chat.token; }
    var current = session();
    return current ? current.token : null;
  }

  function resetChat() {
    seen = {};
    $("[data-view=chat-open] .transcript").textContent = "";
    $("[data-chat-item]").hidden = true;
    $("[data-chat-ended]").hidden = true;
    $("[data-form=chat-message]").hidden = false;
  }

  function chatView(open) {
    var start = $("[data-view=chat-start]");
    var opened = $("[data-view=chat-open]");
    if (start) { start.hidden = open; }
    if (opened) { opened.hidden = !open; }
  }

  // A chat's file, fetched with the bearer token (a link cannot send it), then saved.
  function download(chat, file) {
    fetch("/api/v1/portal/chats/" + chat.id + "/attachments/" + file.id, {
      headers: { "Authorization": "Bearer " + chatToken(chat) }, credentials: "omit"
    }).then(function (response) {
      if (!response.ok) { throw new Error("download " + response.status); }
      return response.blob();
    }).then(function (blob) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = file.name;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
    }).catch(function () { showError(text("failed")); });
  }

  function appendMessage(list, author, bodyText, mine) {
    var item = document.createElement("li");
    item.className = "message " + (mine ? "from-you" : "from-support");
    var who = document.createElement("p");
    who.className = "meta";
    who.textContent = author;
    var said = document.createElement("p");
    said.className = "text";
    said.textContent = bodyText;
    item.appendChild(who);
    if (bodyText) { item.appendChild(said); }
    list.appendChild(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  function onChatEvent(name, data) {
    var transcript = $("[data-view=chat-open] .transcript");
    if (name === "chat.message") {
      if (seen[data.message.id]) { return; }
      seen[data.message.id] = true;
      var mine = data.message.author.kind === "customer";
      var shown = appendMessage(transcript, mine ? text("you") : data.message.author.name, data.message.body, mine);
      (data.message.attachments || []).forEach(function (file) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "quiet file";
        button.textContent = file.name;
        button.addEventListener("click", function () { download(store.get(CHAT), file); });
        shown.appendChild(button);
      });
      $("[data-typing]").hidden = true;
    } else if (name === "typing" && data.who === "staff") {
      var typing = $("[data-typing]");
      typing.hidden = false;
      clearTimeout(onChatEvent.typingTimer);
      onChatEvent.typingTimer = setTimeout(function () { typing.hidden = true; }, 6000);
    } else if (name === "chat.item" && data.item.kind === "ticket" && data.item.how === "converted") {
      // A request of theirs; a task, or an item the chat was linked to, is staff's business.
      var notice = $("[data-chat-item]");
      var chatNow = store.get(CHAT);
      var key = chatNow && chatNow.token ? "chat-item-by-mail" : "chat-item";
      notice.textContent = text(key, { number: data.item.number });
      notice.hidden = false;
    } else if (name === "chat.closed") {
      $("[data-form=chat-message]").hidden = true;
      $("[data-chat-ended]").hidden = false;
      var chat = store.get(CHAT);
      if (chat) { store.set(CHAT, { id: chat.id, token: chat.token, closed: true }); }
    }
  }

  // Server-Sent Events over fetch (an EventSource cannot send a bearer token), resumed with
  // Last-Event-ID after a dropped connection so that nothing is missed and nothing repeats.
  function follow(chat) {
    if (stream) { stream.abort(); }
    var controller = new AbortController();
    stream = controller;
    var lastId = null;
    var delay = 1000;
    function connect() {
      var headers = { "Accept": "text/event-stream", "Authorization": "Bearer " + chatToken(chat) };
      if (lastId) { headers["Last-Event-ID"] = lastId; }
      fetch("/api/v1/portal/chats/" + chat.id + "/stream", {
        headers: headers, credentials: "omit", signal: controller.signal
      }).then(function (response) {
        if (response.status === 401 || response.status === 404 || response.status === 422) {
          // Not theirs any more, or no chat here now (the app switched off): nothing to
          // resume. Anything else (the install away, overloaded) is tried again, backing off.
          store.set(CHAT, null);
          chatView(false);
          controller.abort();
          return null;
        }
        if (!response.ok || !response.body) { throw new Error("stream " + response.status); }
        delay = 1000;
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (part) {
            if (part.done) { throw new Error("stream ended"); }
            // Line ends are made plain only where they are whole: a chunk may end between the
            // \r and the \n of one, which must not read as an empty line (an event's end).
            buffer += decoder.decode(part.value, { stream: true });
            var held = buffer.slice(-1) === "\r" ? "\r" : "";
            buffer = buffer.slice(0, buffer.length - held.length).replace(/\r\n?/g, "\n") + held;
            var cut;
            while ((cut = buffer.indexOf("\n\n")) >= 0) {
              var block = buffer.slice(0, cut);
              buffer = buffer.slice(cut + 2);
              var name = "message", data = [], id = null;
              block.split("\n").forEach(function (line) {
                var colon = line.indexOf(":");
                if (colon === 0) { return; }
                var field = colon < 0 ? line : line.slice(0, colon);
                var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
                if (field === "event") { name = value; }
                else if (field === "data") { data.push(value); }
                else if (field === "id") { id = value; }
              });
              if (id) { lastId = id; }
              if (data.length) {
                var parsed = null;
                try { parsed = JSON.parse(data.join("\n")); }
                catch (e) { /* Not one of ours: skipped. */ }
                if (parsed !== null) { onChatEvent(name, parsed); }
              }
            }
            return pump();
          });
        }
        return pump();
      }).catch(function () {
        if (!controller.signal.aborted) {
          setTimeout(connect, delay);
          delay = Math.min(delay * 2, 30000);  // Backing off while the install is away.
        }
      });
    }
    connect();
  }

  function resumeChat() {
    if (!hasChat) { return; }
    var chat = store.get(CHAT);
    if (!chat || chat.closed || !chatToken(chat)) {
      chatView(false);
      return;
    }
    chatView(true);
    follow(chat);
  }

  onForm("chat-start", function (form) {
    var current = session();
    var payload = { body: form.elements.body.value };
    if (!current) {
      payload.name = form.elements.name.value;
      payload.email = form.elements.email.value;
    }
    return call("POST", "/api/v1/portal/chats", payload, current ? current.token : null)
      .then(function (answer) {
        if (current && !stillSignedIn(current)) { return; }
        if (answer.status !== 201) { failed(answer); return; }
        var chat = { id: answer.json.id, token: answer.json.token || null };
        store.set(CHAT, chat);
        form.reset();
        resetChat();
        chatView(true);
        if (answer.json.state === "closed") {  // Nobody on duty: it is a request already.
          answer.json.messages.forEach(function (message) {
            onChatEvent("chat.message", { message: message });
          });
          if (answer.json.item) { onChatEvent("chat.item", { item: answer.json.item }); }
          onChatEvent("chat.closed", {});
          return;
        }
        follow(chat);
      });
  });

  onForm("chat-message", function (form) {
    var chat = store.get(CHAT);
    if (!chat) { return null; }
    var file = form.elements.file.files[0];
    var sent;
    if (file) {  // The file, with the text if any, as one message.
      var parts = new FormData();
      parts.append("file", file);
      parts.append("body", form.elements.body.value);
      sent = call("POST", "/api/v1/portal/chats/" + chat.id + "/attachments", parts, chatToken(chat));
    } else if (form.elements.body.value.trim()) {
      sent = call("POST", "/api/v1/portal/chats/" + chat.id + "/messages",
                  { body: form.elements.body.value }, chatToken(chat));
    } else {
      return null;
    }
    return sent
      .then(function (answer) {
        if (answer.status !== 201) { failed(answer); return; }
        form.reset();
      });
  });

  var typingSent = 0;
  var chatBody = $("#chat-body");
  if (chatBody) {
    chatBody.addEventListener("input", function () {
      var chat = store.get(CHAT);
      if (!chat || Date.now() - typingSent < 3000) { return; }
      typingSent = Date.now();
      call("POST", "/api/v1/portal/chats/" + chat.id + "/typing", undefined, chatToken(chat));
    });
  }

  $$("[data-action=new-chat]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (stream) { stream.abort(); }
      store.set(CHAT, null);
      chatView(false);
    });
  });

  // --- my requests -----------------------------------------------------------------------

  function listButton(list, label, onClick) {
    var item = document.createElement("li");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "request";
    button.textContent = label;
    button.addEventListener("click", onClick);
    item.appendChild(button);
    list.appendChild(item);
    return button;
  }

  var openRequest = null;

  function loadRequests() {
    var current = session();
    if (!current || !$("[data-view=requests]")) { return null; }
    $("[data-view=requests]").hidden = false;
    $("[data-view=request]").hidden = true;
    return call("GET", "/api/v1/portal/tickets", undefined, current.token).then(function (answer) {
      if (!stillSignedIn(current)) { return; }
      if (answer.status !== 200) { failed(answer); return; }
      var list = $(".request-list");
      list.textContent = "";
      answer.json.items.forEach(function (ticket) {
        var link = listButton(list, "#" + ticket.number + " " + ticket.title, function () {
          showRequest(ticket.number);
        });
        var status = document.createElement("span");
        status.className = "status";
        status.textContent = ticket.status;
        link.appendChild(document.createTextNode(" "));
        link.appendChild(status);
      });
      $("[data-no-requests]").hidden = answer.json.items.length > 0;
    });
  }

  function showRequest(number) {
    var current = session();
    if (!current) { return null; }
    return call("GET", "/api/v1/portal/tickets/" + number, undefined, current.token).then(function (answer) {
      if (!stillSignedIn(current)) { return; }
      if (answer.status !== 200) { failed(answer); return; }
      openRequest = number;
      $("[data-view=requests]").hidden = true;
      $("[data-view=request]").hidden = false;
      $("[data-request-title]").textContent = "#" + answer.json.number + " " + answer.json.title;
      var list = $("[data-request-messages]");
      list.textContent = "";
      answer.json.messages.forEach(function (message) {
        var mine = message.author.kind === "customer";
        appendMessage(list, mine ? text("you") : message.author.name, message.body, mine);
      });
    });
  }

  $$("[data-action=back-to-requests]").forEach(function (button) {
    button.addEventListener("click", function () { openRequest = null; loadRequests(); });
  });

  onForm("request-reply", function (form) {
    var current = session();
    if (!current || openRequest === null) { return null; }
    var payload = { body: form.elements.body.value };
    return call("POST", "/api/v1/portal/tickets/" + openRequest + "/messages", payload, current.token)
      .then(function (answer) {
        if (answer.status !== 201) { failed(answer); return; }
        form.reset();
        return showRequest(openRequest);
      });
  });

  // Each type customers may choose has its form (its fields, from the page); the chosen one
  // shows. Its standard fields go as they are, the type's own in `fields`.
  var typeChoice = $("[data-request-type]");
  function showChosenType() {
    $$("[data-form=new-request]").forEach(function (form) {
      form.hidden = form.dataset.type !== typeChoice.value;
    });
  }
  if (typeChoice) {
    typeChoice.addEventListener("change", showChosenType);
    showChosenType();  // A browser may restore another choice on reload.
  }
  var STANDARD = ["title", "description", "priority"];
  $$("[data-form=new-request]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.dataset.busy) { return; }
      var current = session();
      if (!current) { return; }
      var payload = { item_type: form.dataset.type, fields: {} };
      $$("input[name], textarea[name], select[name]", form).forEach(function (field) {
        if (STANDARD.indexOf(field.name) >= 0) { payload[field.name] = field.value; }
        else if (field.value !== "") { payload.fields[field.name] = field.value; }
      });
      form.dataset.busy = "1";
      showError("");
      call("POST", "/api/v1/portal/tickets", payload, current.token).then(function (answer) {
        if (!stillSignedIn(current)) { return; }
        if (answer.status !== 201) { failed(answer); return; }
        form.reset();
        if ($("#tab-my_requests")) {
          select("my_requests");
          showRequest(answer.json.number);
        } else {
          showError(text("request-sent", { number: answer.json.number }));
        }
      }).catch(function () { showError(text("failed")); })
        .then(function () { delete form.dataset.busy; });
    });
  });

  // --- help ------------------------------------------------------------------------------

  function searchArticles(query) {
    var list = $("[data-articles]");
    if (!list) { return null; }
    var current = session();
    var path = "/api/v1/portal/kb" + (query ? "?q=" + encodeURIComponent(query) : "");
    return call("GET", path, undefined, current ? current.token : null).then(function (answer) {
      if (current && !stillSignedIn(current)) { return; }  // Their organisation's articles.
      if (answer.status !== 200) { failed(answer); return; }
      $("[data-article]").hidden = true;
      list.hidden = false;
      list.textContent = "";
      answer.json.items.forEach(function (article) {
        listButton(list, article.title, function () { showArticle(article.slug); });
      });
      $("[data-no-articles]").hidden = answer.json.items.length > 0;
    });
  }

  function showArticle(slug) {
    var current = session();
    return call("GET", "/api/v1/portal/kb/" + encodeURIComponent(slug), undefined, current ? current.token : null)
      .then(function (answer) {
        if (current && !stillSignedIn(current)) { return; }
        if (answer.status !== 200) { failed(answer); return; }
        $("[data-articles]").hidden = true;
        $("[data-no-articles]").hidden = true;
        $("[data-article]").hidden = false;
        $("[data-article-title]").textContent = answer.json.title;
        // The knowledge base's own HTML, sanitised when the article was saved (nh3).
        var articleBody = $("[data-article-body]");
        articleBody.innerHTML = answer.json.html;
        $$("a[href]", articleBody).forEach(function (link) {  // Out of the small frame.
          link.target = "_blank";
          link.rel = "noopener noreferrer";
        });
      });
  }

  onForm("help-search", function (form) { return searchArticles(form.elements.q.value.trim()); });
  $$("[data-action=back-to-articles]").forEach(function (button) {
    button.addEventListener("click", function () { searchArticles($("#help-q").value.trim()); });
  });

  refreshSignedIn();
  if (tabs.length) { select(tabs[0].dataset.tab); }
  resumeChat();
})();
