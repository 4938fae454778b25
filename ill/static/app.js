// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  for (const el of document.querySelectorAll("select[data-autosubmit]")) {
    el.addEventListener("change", () => el.form.submit());
  }
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (ev) => {
      if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
    });
  }
  // Pages that show a running job refresh themselves until it is done.
  const refresh = document.querySelector("[data-refresh-seconds]");
  if (refresh) {
    const seconds = parseInt(refresh.dataset.refreshSeconds, 10) || 3;
    window.setTimeout(() => window.location.reload(), seconds * 1000);
  }
  for (const btn of document.querySelectorAll("[data-print]")) {
    btn.addEventListener("click", () => window.print());
  }
});
