// ledgerdesk customer pages: progressive enhancement only; every page works without it.
// A form sent once is not sent twice by a second click while the answer is on its way.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "1";
  form.querySelectorAll("button[type=submit]").forEach(function (button) {
    button.setAttribute("aria-disabled", "true");
  });
});
// The request filters apply as soon as a choice is made.
document.querySelectorAll("form.filters select").forEach(function (select) {
  select.addEventListener("change", function () { select.form.requestSubmit(); });
});
