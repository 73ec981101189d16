/* Ripple web pages: shared code of the admin console (/console) and the employee page (/m).
 * Vanilla JS, no dependencies, no inline script (the pages' CSP has script-src 'self').
 * Every string a person sees comes from assets/i18n.json through R.t(key). */
"use strict";

(function () {
  const R = {};
  window.R = R;

  // The API lives next to the page: "/console" -> "", "/prod/console" -> "/prod".
  R.base = location.pathname.replace(/\/[^/]*$/, "");
  R.LANGS = ["en", "ja", "zh-Hans", "zh-Hant"];
  R.CHANNELS = ["wechat", "line", "weibo", "douyin", "xiaohongshu", "linkedin", "x", "email", "other"];

  function meta(name) {
    const el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") || "" : "";
  }

  // ------------------------------------------------------------------ i18n

  let dictionaries = {};
  let dict = {};
  R.lang = "en";

  /** The first supported language of the stored choice, then the browser's preferences. */
  R.pickLang = function (stored, preferred) {
    const candidates = [stored].concat(preferred || []);
    for (const raw of candidates) {
      if (!raw) continue;
      const tag = String(raw).toLowerCase();
      if (tag === "zh-hant" || tag.startsWith("zh-hant") || tag === "zh-tw" || tag === "zh-hk" || tag === "zh-mo") {
        return "zh-Hant";
      }
      if (tag.startsWith("zh")) return "zh-Hans";
      if (tag.startsWith("ja")) return "ja";
      if (tag.startsWith("en")) return "en";
    }
    return "en";
  };

  R.t = function (key, vars) {
    let s = Object.prototype.hasOwnProperty.call(dict, key) ? dict[key] : (dictionaries.en || {})[key];
    if (s === undefined) {
      console.warn("missing i18n key", key);
      s = key;
    }
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
    return s;
  };

  R.has = (key) => Object.prototype.hasOwnProperty.call(dict, key);

  R.applyI18n = function (root) {
    (root || document).querySelectorAll("[data-i18n]").forEach((el) => {
      el.textContent = R.t(el.getAttribute("data-i18n"));
    });
    for (const attr of ["placeholder", "title", "aria-label"]) {
      (root || document).querySelectorAll("[data-i18n-" + attr + "]").forEach((el) => {
        el.setAttribute(attr, R.t(el.getAttribute("data-i18n-" + attr)));
      });
    }
  };

  const langListeners = [];
  R.onLang = (fn) => langListeners.push(fn);

  R.setLang = function (lang) {
    R.lang = R.LANGS.includes(lang) ? lang : "en";
    dict = dictionaries[R.lang] || {};
    document.documentElement.lang = R.lang;
    try {
      localStorage.setItem("ripple.lang", R.lang);
    } catch (e) {
      /* storage may be disabled: the choice then lasts for this page only */
    }
    R.applyI18n(document);
    const select = document.getElementById("lang-select");
    if (select) select.value = R.lang;
    langListeners.forEach((fn) => fn(R.lang));
  };

  R.loadI18n = async function () {
    const resp = await fetch(meta("ripple-i18n"), { credentials: "same-origin" });
    dictionaries = await resp.json();
    let stored = null;
    try {
      stored = localStorage.getItem("ripple.lang");
    } catch (e) {
      stored = null;
    }
    const select = document.getElementById("lang-select");
    if (select) {
      select.textContent = "";
      for (const lang of R.LANGS) select.appendChild(R.h("option", { value: lang, text: R.tOf(lang, "lang.name") }));
      select.addEventListener("change", () => R.setLang(select.value));
    }
    R.setLang(R.pickLang(stored, navigator.languages || [navigator.language]));
  };

  /** A key in a given language (the language switcher names each language in itself). */
  R.tOf = (lang, key) => (dictionaries[lang] || {})[key] || key;

  // ------------------------------------------------------------------ formatting

  R.num = (n) => (n === null || n === undefined ? "–" : new Intl.NumberFormat(R.lang).format(n));
  R.pct = (x) =>
    x === null || x === undefined
      ? "–"
      : new Intl.NumberFormat(R.lang, { style: "percent", maximumFractionDigits: 1 }).format(x);
  /** A moment in the tenant's time zone once known (else the browser's), with the zone named:
   * the periods, boards and settlements are the tenant's days, so the times beside them are too. */
  R.time = function (iso) {
    if (!iso) return "–";
    const d = new Date(iso);
    if (isNaN(d)) return String(iso);
    const opts = { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
    try {
      return new Intl.DateTimeFormat(R.lang, R.tz ? Object.assign({ timeZone: R.tz }, opts) : opts).format(d);
    } catch (e) {
      return new Intl.DateTimeFormat(R.lang, opts).format(d); // an unknown zone name: the browser's
    }
  };
  R.day = (d) => d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
  /** ISO week "YYYY-Www" of a date (local time). */
  /** The tenant's time zone once known (periods and "today" are the tenant's, not the browser's). */
  R.tz = null;
  /** Today in the tenant's time zone, as a local-noon Date (safe for R.day and R.isoWeek). */
  R.today = function () {
    const now = new Date();
    if (!R.tz) return now;
    try {
      const parts = new Intl.DateTimeFormat("en-CA", { timeZone: R.tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
      const [y, m, d] = parts.split("-").map(Number);
      return new Date(y, m - 1, d, 12);
    } catch (err) {
      return now; // an unknown zone name: the browser's day is the best guess
    }
  };
  R.isoWeek = function (d) {
    const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
    const dayNum = t.getUTCDay() || 7;
    t.setUTCDate(t.getUTCDate() + 4 - dayNum);
    const yearStart = new Date(Date.UTC(t.getUTCFullYear(), 0, 1));
    const week = Math.ceil(((t - yearStart) / 86400000 + 1) / 7);
    return t.getUTCFullYear() + "-W" + String(week).padStart(2, "0");
  };
  /** A datetime-local input's value as an ISO timestamp with offset (UTC). */
  R.localToIso = (value) => (value ? new Date(value).toISOString() : null);
  R.isoToLocalInput = function (d) {
    const pad = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  };

  // ------------------------------------------------------------------ DOM

  /** R.h("button", {class: "btn", i18n: "auth.signin", on: {click: fn}}, child, ...) */
  R.h = function (tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") el.textContent = v;
      else if (k === "i18n") {
        el.setAttribute("data-i18n", v);
        el.textContent = R.t(v);
      } else if (k === "on") for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      else if (k === "class") el.className = v;
      else if (v === true) el.setAttribute(k, "");
      else el.setAttribute(k, v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
    }
    return el;
  };

  /** A form filled from the server that never loses what the user typed: an answer that
   * arrives after the user started typing fills only the fields left alone (``force`` after a
   * save, when the server's answer is what was typed). ``save`` stays disabled until the first
   * fill, so a save cannot send the empty fields of a form that has not loaded yet (and wipe
   * what the server had). Returns ``fill(values, force)``. */
  R.formFiller = function (inputs, save) {
    const edited = new Set();
    for (const el of Object.values(inputs)) el.addEventListener("input", () => edited.add(el));
    if (save) save.disabled = true;
    return (values, force) => {
      for (const [f, el] of Object.entries(inputs)) {
        if (!force && edited.has(el)) continue;
        el.value = values[f] || "";
      }
      if (force) edited.clear();
      if (save) save.disabled = false;
    };
  };

  R.clear = function (el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  };

  R.empty = (key) => R.h("p", { class: "empty", i18n: key });

  /** Phone and e-mail as tel:/mailto: links (a tap calls or writes), "–" when there is neither.
   * Masked values (the lead pool's "138****5678") stay plain text. */
  R.contact = function (phone, email) {
    const parts = [];
    if (phone) parts.push(phone.includes("*") ? R.h("span", { text: phone }) : R.h("a", { href: "tel:" + phone.replace(/[^+0-9]/g, ""), class: "contact", text: phone }));
    if (email) parts.push(email.includes("*") ? R.h("span", { text: email }) : R.h("a", { href: "mailto:" + email, class: "contact", text: email }));
    if (!parts.length) return "–";
    const out = R.h("span", { class: "contacts" });
    parts.forEach((el, i) => {
      if (i) out.appendChild(document.createTextNode(" · "));
      out.appendChild(el);
    });
    return out;
  };

  let toastTimer = null;
  R.toast = function (text, kind) {
    const el = document.getElementById("toast");
    if (!el) return;
    el.textContent = text;
    el.className = "toast show " + (kind || "");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (el.className = "toast"), 3500);
  };

  /** A table; columns: [{label: i18nKey, value: row => string|number|Node, num?: bool}]. */
  R.table = function (columns, rows, opts) {
    const o = opts || {};
    if (!rows.length) return R.empty(o.emptyKey || "common.empty");
    const head = R.h("tr", null, columns.map((c) => R.h("th", { i18n: c.label, class: c.num ? "num" : null })));
    const body = rows.map((row) => {
      const tr = R.h(
        "tr",
        { class: o.onClick ? "clickable" : null, tabindex: o.onClick ? "0" : null },
        columns.map((c) => {
          const v = c.value(row);
          return R.h("td", { class: c.num ? "num" : null, "data-col": c.key || null }, v === null || v === undefined ? "–" : v);
        })
      );
      if (o.onClick) {
        tr.addEventListener("click", () => o.onClick(row));
        tr.addEventListener("keydown", (e) => e.key === "Enter" && o.onClick(row));
      }
      return tr;
    });
    return R.h("div", { class: "table-wrap" }, R.h("table", null, R.h("thead", null, head), R.h("tbody", null, body)));
  };

  /** A labelled form field. */
  /** After a refused save: mark and focus the input the API's 422 names (details.field). */
  R.markRefused = function (err, inputs) {
    const field = err && err.body && err.body.error && err.body.error.details && err.body.error.details.field;
    if (field && inputs[field]) {
      inputs[field].setAttribute("aria-invalid", "true");
      inputs[field].focus();
    }
  };

  R.field = function (labelKey, input, hintKey) {
    const id = input.id || "f-" + Math.random().toString(36).slice(2);
    input.id = id;
    return R.h("div", { class: "field" }, R.h("label", { for: id, i18n: labelKey }), input, hintKey ? R.h("small", { i18n: hintKey }) : null);
  };

  R.select = function (options, attrs) {
    // options: [[value, i18nKey or {text}]]
    return R.h(
      "select",
      attrs || {},
      options.map(([value, label]) =>
        typeof label === "string" ? R.h("option", { value, i18n: label }) : R.h("option", { value, text: label.text })
      )
    );
  };

  R.card = (titleKey, ...children) => R.h("section", { class: "card" }, titleKey ? R.h("h2", { i18n: titleKey }) : null, ...children);

  R.stat = (labelKey, value, metric) =>
    R.h("div", { class: "stat", "data-metric": metric || null }, R.h("span", { class: "stat-label", i18n: labelKey }), R.h("strong", { class: "stat-value", text: R.num(value) }));

  // ------------------------------------------------------------------ sign-in

  R.page = document.body.getAttribute("data-page") || "console";
  const TOKEN_KEY = "ripple.token." + R.page;
  const REFRESH_KEY = "ripple.refresh." + R.page;

  const stores = () => [sessionStorage, localStorage];
  const read = (key) => {
    try {
      return sessionStorage.getItem(key) || localStorage.getItem(key);
    } catch (e) {
      return null;
    }
  };

  /** The Cognito ID token of this page's session (sessionStorage; localStorage with "keep me signed in"). */
  R.token = () => read(TOKEN_KEY);
  R.refreshToken = () => read(REFRESH_KEY);
  R.setTokens = function (tokens, remember) {
    try {
      const keep = remember || !!localStorage.getItem(REFRESH_KEY);
      sessionStorage.setItem(TOKEN_KEY, tokens.id_token);
      if (tokens.refresh_token) sessionStorage.setItem(REFRESH_KEY, tokens.refresh_token);
      if (keep) {
        localStorage.setItem(TOKEN_KEY, tokens.id_token);
        if (tokens.refresh_token) localStorage.setItem(REFRESH_KEY, tokens.refresh_token);
      }
    } catch (e) {
      /* storage disabled: signed in for this page only */
    }
  };
  R.forgetToken = function () {
    R.stopLive();
    try {
      for (const store of stores()) {
        store.removeItem(TOKEN_KEY);
        store.removeItem(REFRESH_KEY);
      }
    } catch (e) {
      /* nothing stored */
    }
  };

  /** The claims of an ID token (not verified here: the API verifies every call). The tenant
   * and employee id are the Cognito user's admin-set attributes, the role its group. */
  R.claims = function (token) {
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const json = decodeURIComponent(
        Array.from(atob(part + "===".slice((part.length + 3) % 4)))
          .map((c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0"))
          .join("")
      );
      const c = JSON.parse(json);
      const groups = c["cognito:groups"] || [];
      return {
        sub: c["custom:employee_id"],
        tenant: c["custom:tenant"],
        role: groups.indexOf("admin") >= 0 ? "admin" : "employee",
        name: c.name || c.email || c["custom:employee_id"],
        exp: c.exp,
      };
    } catch (e) {
      return null;
    }
  };

  /** An invitation link's fragment (``#invite=<e-mail>&code=<temporary password>``, see
   * ripple.domain.invitations): {email, code}, or null. The fragment is removed from the
   * address bar (and the history entry) at once, so the password is not left behind in
   * the browser's history or shown on screen. */
  R.takeInvitation = function () {
    const hash = location.hash || "";
    if (!hash.startsWith("#invite=") || hash.indexOf("&code=") < 0) return null;
    history.replaceState(null, "", location.pathname + location.search);
    const raw = hash.slice("#invite=".length);
    const at = raw.indexOf("&code=");
    let email = raw.slice(0, at);
    try {
      email = decodeURIComponent(email);
    } catch (e) {
      return null;
    }
    const code = raw.slice(at + "&code=".length);
    return email && code ? { email: email.trim(), code } : null;
  };

  /** Tokens of an account that belongs on the other page (an admin's invitation opened on
   * /m): stored for that page in this tab, which then opens it. */
  R.handOver = function (page, tokens) {
    try {
      sessionStorage.setItem("ripple.token." + page, tokens.id_token);
      if (tokens.refresh_token) sessionStorage.setItem("ripple.refresh." + page, tokens.refresh_token);
    } catch (e) {
      return false;
    }
    location.replace(R.base + "/" + page);
    return true;
  };

  // Cognito Hosted UI (template.yaml's HostedUiDomainPrefix): authorization code with PKCE
  // (RFC 7636, S256), the flow OAuth 2.1 keeps for browser apps; no implicit flow, no client
  // secret. The verifier and state live in this tab's sessionStorage until the code returns.
  const PKCE_KEY = "ripple.pkce." + R.page;
  const SSO_KEY = "ripple.sso." + R.page;
  const b64url = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer)))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");

  /** {url, client, idp} of the Hosted UI this deployment offers, or null. */
  R.hostedUi = function () {
    const url = meta("ripple-hosted-ui");
    const client = meta("ripple-client-id");
    return url && client ? { url, client, idp: meta("ripple-idp") } : null;
  };
  const redirectUri = () => location.origin + location.pathname;

  /** Off to the Hosted UI (straight on to the company's provider when one is configured). */
  R.startHostedSignIn = async function (remember) {
    const hosted = R.hostedUi();
    const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
    const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
    const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, remember: !!remember }));
    const query = new URLSearchParams({
      response_type: "code",
      client_id: hosted.client,
      redirect_uri: redirectUri(),
      scope: "openid email profile",
      state,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    if (hosted.idp) query.set("identity_provider", hosted.idp);
    location.assign(hosted.url + "/oauth2/authorize?" + query.toString());
  };

  /** Back from the Hosted UI (?code=&state=, or ?error=): {tokens, remember}, {error}, or
   * null when this page load is no such return. The query leaves the address bar at once. */
  R.finishHostedSignIn = async function () {
    const query = new URLSearchParams(location.search);
    const hosted = R.hostedUi();
    if (!hosted || (!query.has("code") && !query.has("error"))) return null;
    history.replaceState(null, "", location.pathname);
    let saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
      sessionStorage.removeItem(PKCE_KEY);
    } catch (e) {
      saved = null;
    }
    if (query.has("error")) return { error: query.get("error_description") || query.get("error") };
    if (!saved || saved.state !== query.get("state")) return { error: R.t("auth.sso_state") };
    const resp = await fetch(hosted.url + "/oauth2/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: hosted.client,
        code: query.get("code"),
        redirect_uri: redirectUri(),
        code_verifier: saved.verifier,
      }),
      cache: "no-store",
    });
    const data = await resp.json().catch(() => null);
    if (!resp.ok || !data || !data.id_token) return { error: (data && data.error) || "HTTP " + resp.status };
    try {
      sessionStorage.setItem(SSO_KEY, "1");
    } catch (e) {
      /* storage disabled */
    }
    return { tokens: data, remember: saved.remember };
  };

  /** Where to end the Hosted UI's own session after a sign-out, or "" (signed in here). */
  R.hostedLogoutUrl = function () {
    const hosted = R.hostedUi();
    let used = false;
    try {
      used = sessionStorage.getItem(SSO_KEY) === "1";
      sessionStorage.removeItem(SSO_KEY);
    } catch (e) {
      used = false;
    }
    if (!hosted || !used) return "";
    return hosted.url + "/logout?" + new URLSearchParams({ client_id: hosted.client, logout_uri: redirectUri() }).toString();
  };

  /** POST to the sign-in relay (no bearer token; errors as ApiError). */
  R.auth = async function (path, body) {
    const resp = await fetch(R.base + "/auth/" + path, {
      method: "POST",
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
    const text = await resp.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = null;
    }
    if (!resp.ok) throw new ApiError(resp.status, data);
    return data;
  };

  /** A new ID token from the refresh token ("keep me signed in"); false if there is none or it was revoked. */
  let refreshing = null;
  R.refresh = function () {
    const refreshToken = R.refreshToken();
    if (!refreshToken) return Promise.resolve(false);
    if (!refreshing) {
      refreshing = R.auth("refresh", { refresh_token: refreshToken })
        .then((tokens) => {
          R.setTokens(tokens, false);
          return true;
        })
        .catch(() => false)
        .finally(() => (refreshing = null));
    }
    return refreshing;
  };

  /** Sign out: the refresh token is revoked at Cognito, then everything is forgotten here. */
  R.signOut = async function () {
    const refreshToken = R.refreshToken();
    R.forgetToken();
    if (refreshToken) {
      try {
        await R.auth("sign-out", { refresh_token: refreshToken });
      } catch (e) {
        /* already revoked or expired: nothing left to revoke */
      }
    }
  };

  // ------------------------------------------------------------------ API

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error && body.error.message) || "HTTP " + status);
      this.status = status;
      this.body = body;
    }
  }
  R.ApiError = ApiError;
  let onUnauthorized = () => {};
  R.onUnauthorized = (fn) => (onUnauthorized = fn);


  R.api = async function (method, path, body, headers) {
    const h = Object.assign({ Accept: "application/json" }, headers || {});
    const token = R.token();
    // signed out meanwhile (a view's chain of calls outliving it): nothing is sent
    if (!token) throw new ApiError(401, null);
    h.Authorization = "Bearer " + token;
    const init = { method, headers: h, credentials: "same-origin", cache: "no-store" };
    if (body instanceof Blob) {
      h["Content-Type"] = body.type || "application/octet-stream"; // a file sent as is (card images)
      init.body = body;
    } else if (body !== undefined && body !== null) {
      h["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    // GETs revalidate: the browser keeps the last answer (private, no-cache, ETag, Vary:
    // Authorization) and sends If-None-Match itself; a 304 costs no body and reaches us as
    // that answer. Everything else bypasses the cache.
    if (method === "GET") init.cache = "no-cache";
    let resp = await fetch(R.base + path, init);
    if (resp.status === 401 && token && (await R.refresh())) {
      h.Authorization = "Bearer " + R.token(); // the ID token expired: once more with a fresh one
        resp = await fetch(R.base + path, init);
    }
    const text = await resp.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = null;
    }
    if (resp.status === 401 && R.token()) onUnauthorized();
    if (!resp.ok) throw new ApiError(resp.status, data);
    return data;
  };

  /** A short, translated message for a failed call (the API's own message as detail). */
  R.errorText = function (err) {
    if (err instanceof ApiError) {
      const key = "error." + err.status;
      const head = R.has(key) ? R.t(key) : R.t("error.generic");
      return err.message ? head + " — " + err.message : head;
    }
    return R.t("error.network");
  };

  // ------------------------------------------------------------------ live refresh

  /* Pages are refreshed by push: one WebSocket per page (the URL is in the page's
   * "ripple-live" meta tag; the ID token goes as ?token=, browsers cannot set headers on a
   * WebSocket), subscribed by the server to the signed-in user's own topic. A message names
   * what changed; every live view then reloads its data through the API. Only while the
   * socket is down do views poll, every R.FALLBACK_MS, with conditional GETs (ETag -> 304).
   * document.body.dataset.live says "up" or "down" (the e2e tests read it). */
  R.FALLBACK_MS = 60000;
  R.MIN_GAP_MS = 1000; // a busy tenant's pushes refresh a view at most once a second
  R.PING_MS = 5 * 60000; // API Gateway closes a WebSocket idle for 10 minutes
  R.live = { up: false, messages: 0, last: null };
  const liveListeners = new Set();
  let socket = null;
  let wantLive = false;
  let backoff = 1000;
  let reconnectTimer = null;
  let pingTimer = null;

  const liveState = (up) => {
    R.live.up = up;
    if (document.body) document.body.dataset.live = up ? "up" : "down";
  };

  function openSocket() {
    clearTimeout(reconnectTimer);
    const url = meta("ripple-live");
    const token = R.token();
    if (!wantLive || !url || !token || socket) return;
    let ws;
    try {
      ws = new WebSocket(url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token));
    } catch (e) {
      return;
    }
    socket = ws;
    ws.onopen = () => {
      backoff = 1000;
      liveState(true);
      clearInterval(pingTimer);
      pingTimer = setInterval(() => ws.readyState === 1 && ws.send('{"action":"ping"}'), R.PING_MS);
      liveListeners.forEach((fn) => fn({ type: "open", kinds: [] })); // catch up on what we missed
    };
    ws.onmessage = (ev) => {
      let msg = null;
      try {
        msg = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      if (!msg || msg.type !== "changed") return;
      R.live.messages++;
      R.live.last = msg;
      liveListeners.forEach((fn) => fn(msg));
    };
    ws.onclose = () => {
      if (socket === ws) socket = null;
      clearInterval(pingTimer);
      liveState(false);
      if (!wantLive) return;
      // refused (expired token) or dropped: try again later, with the token we have then
      reconnectTimer = setTimeout(openSocket, backoff);
      backoff = Math.min(backoff * 2, 30000);
    };
  }

  /** Open the page's WebSocket (after sign-in); reconnects with backoff until R.stopLive(). */
  R.startLive = function () {
    wantLive = true;
    openSocket();
  };

  R.stopLive = function () {
    wantLive = false;
    clearTimeout(reconnectTimer);
    clearInterval(pingTimer);
    if (socket) socket.close();
    socket = null;
    liveState(false);
  };

  /** Call fn now, again on each pushed change (one run at a time, changes arriving meanwhile
   * coalesced into one more run) and, only while the socket is down, every R.FALLBACK_MS
   * (``ms``, the old polling interval, is the floor). Returns a stop function. */
  R.poll = function (fn, ms) {
    let stopped = false;
    let running = false;
    let again = false;
    let lastStart = 0;
    let gapTimer = null;
    const run = async () => {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      lastStart = Date.now();
      try {
        await fn();
      } catch (e) {
        /* a failed refresh is retried on the next change or tick */
      }
      running = false;
      // the view's first answer is in: its loading placeholders (CSS, #view[aria-busy]) go
      if (!stopped) document.getElementById("view")?.removeAttribute("aria-busy");
      if (again && !stopped) {
        again = false;
        run();
      }
    };
    const onChange = () => {
      if (document.hidden || gapTimer) return;
      const wait = lastStart + R.MIN_GAP_MS - Date.now();
      if (wait <= 0) return run();
      gapTimer = setTimeout(() => {
        gapTimer = null;
        run();
      }, wait);
    };
    liveListeners.add(onChange);
    const timer = setInterval(() => {
      if (!R.live.up && !document.hidden) run();
    }, Math.max(ms || 0, R.FALLBACK_MS));
    run();
    return () => {
      stopped = true;
      liveListeners.delete(onChange);
      clearInterval(timer);
      clearTimeout(gapTimer);
    };
  };

  // ------------------------------------------------------------------ clipboard and sharing

  R.copy = async function (text) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      const area = R.h("textarea", { class: "offscreen", readonly: true });
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    R.toast(R.t("common.copied"), "ok");
  };

  /** Share targets of a link: a web share URL where the network has one, else copy. */
  R.shareUrl = function (channel, url, text) {
    const u = encodeURIComponent(url);
    const t = encodeURIComponent(text || "");
    switch (channel) {
      case "line":
        return "https://social-plugins.line.me/lineit/share?url=" + u;
      case "weibo":
        return "https://service.weibo.com/share/share.php?url=" + u + "&title=" + t;
      case "x":
        return "https://x.com/intent/post?url=" + u + "&text=" + t;
      case "linkedin":
        return "https://www.linkedin.com/sharing/share-offsite/?url=" + u;
      case "email":
        return "mailto:?subject=" + t + "&body=" + t + "%0A" + u;
      default:
        return null; // WeChat, Douyin, Xiaohongshu: paste the copied link in the app
    }
  };

  /** Copy + share buttons for one link. */
  R.linkActions = function (link, text) {
    const url = link.short_url;
    const wrap = R.h("div", { class: "link-actions" });
    wrap.appendChild(
      R.h("button", {
        class: "btn small",
        type: "button",
        "data-action": "copy",
        "data-channel": link.channel,
        i18n: "link.copy",
        on: { click: () => R.copy(url) },
      })
    );
    const target = R.shareUrl(link.channel, url, text);
    if (target) {
      wrap.appendChild(
        R.h("a", {
          class: "btn small secondary",
          href: target,
          target: "_blank",
          rel: "noopener noreferrer",
          "data-action": "share",
          text: R.t("link.share_on", { channel: R.t("channel." + link.channel) }),
        })
      );
    }
    if (navigator.share) {
      wrap.appendChild(
        R.h("button", {
          class: "btn small secondary",
          type: "button",
          i18n: "link.share",
          on: { click: () => navigator.share({ url, text: text || "" }).catch(() => {}) },
        })
      );
    }
    return wrap;
  };

  // ------------------------------------------------------------------ SVG charts

  const SVG = "http://www.w3.org/2000/svg";
  function s(tag, attrs, ...children) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
    for (const c of children) if (c) el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    return el;
  }
  R.svg = s;

  /** Horizontal bars: rows [{label, value}] (labels are data or already translated). */
  R.barChart = function (rows, opts) {
    const o = opts || {};
    if (!rows.length) return R.empty(o.emptyKey || "common.nodata");
    const bar = 22;
    const gap = 8;
    const labelW = 120;
    const width = 480;
    const height = rows.length * (bar + gap) + gap;
    const max = Math.max(1, ...rows.map((r) => r.value || 0));
    // an image needs a text alternative (WCAG 1.1.1): the title, else the bars as "label value" pairs
    const summary = rows.map((r) => r.label + " " + R.num(r.value)).join(", ");
    const svg = s("svg", { viewBox: "0 0 " + width + " " + height, class: "chart bar-chart", role: "img", "aria-label": o.title ? o.title + ": " + summary : summary });
    rows.forEach((r, i) => {
      const y = gap + i * (bar + gap);
      const w = Math.max(1, ((width - labelW - 60) * (r.value || 0)) / max);
      svg.appendChild(s("text", { x: labelW - 6, y: y + bar * 0.7, "text-anchor": "end", class: "chart-label" }, String(r.label).slice(0, 18)));
      svg.appendChild(s("rect", { x: labelW, y, width: w, height: bar, rx: 3, class: "chart-bar c" + (i % 6) }, s("title", null, r.label + ": " + R.num(r.value))));
      svg.appendChild(s("text", { x: labelW + w + 6, y: y + bar * 0.7, class: "chart-value" }, R.num(r.value)));
    });
    return svg;
  };

  /** Lines over days: days [{day, ...}], series [{key, label}]. */
  R.lineChart = function (days, series) {
    if (!days.length) return R.empty("common.nodata");
    const width = 560;
    const height = 220;
    const pad = { l: 40, r: 24, t: 10, b: 28 };
    const max = Math.max(1, ...days.flatMap((d) => series.map((sr) => d[sr.key] || 0)));
    const x = (i) => pad.l + (days.length === 1 ? (width - pad.l - pad.r) / 2 : (i * (width - pad.l - pad.r)) / (days.length - 1));
    const y = (v) => height - pad.b - (v * (height - pad.t - pad.b)) / max;
    const total = (key) => days.reduce((n, d) => n + (d[key] || 0), 0);
    const label = days[0].day + " – " + days[days.length - 1].day + ": " + series.map((sr) => sr.label + " " + R.num(total(sr.key))).join(", ");
    const svg = s("svg", { viewBox: "0 0 " + width + " " + height, class: "chart line-chart", role: "img", "aria-label": label });
    for (const frac of [0, 0.5, 1]) {
      const v = Math.round(max * frac);
      svg.appendChild(s("line", { x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v), class: "chart-grid" }));
      svg.appendChild(s("text", { x: pad.l - 4, y: y(v) + 4, "text-anchor": "end", class: "chart-axis" }, R.num(v)));
    }
    const step = Math.max(1, Math.ceil(days.length / 7));
    days.forEach((d, i) => {
      if (i % step === 0) svg.appendChild(s("text", { x: x(i), y: height - 8, "text-anchor": "middle", class: "chart-axis" }, String(d.day).slice(5)));
    });
    series.forEach((sr, k) => {
      const pts = days.map((d, i) => x(i) + "," + y(d[sr.key] || 0)).join(" ");
      svg.appendChild(s("polyline", { points: pts, class: "chart-line c" + k }));
      days.forEach((d, i) => svg.appendChild(s("circle", { cx: x(i), cy: y(d[sr.key] || 0), r: 2.5, class: "chart-dot c" + k }, s("title", null, d.day + " " + sr.label + ": " + R.num(d[sr.key] || 0)))));
    });
    const legend = R.h("div", { class: "legend" }, series.map((sr, k) => R.h("span", { class: "legend-item" }, R.h("i", { class: "swatch c" + k }), sr.label)));
    return R.h("div", { class: "chart-box" }, svg, legend);
  };

  /** The funnel: stages [{stage, count, rate}] as centred, shrinking bars. */
  R.funnelChart = function (stages) {
    if (!stages.length) return R.empty("common.nodata");
    const width = 560;
    const row = 34;
    const label = 100; // stage names, right-aligned before the bars
    const value = 190; // room after the bars for "count (rate of stage)"
    const area = width - label - value;
    const height = stages.length * row + 4;
    const max = Math.max(1, ...stages.map((st) => st.count || 0));
    const said = stages.map((st) => R.t("stage." + st.stage) + " " + R.num(st.count)).join(", ");
    const svg = s("svg", { viewBox: "0 0 " + width + " " + height, class: "chart funnel-chart", role: "img", "aria-label": said });
    stages.forEach((st, i) => {
      const w = Math.max(2, (area * (st.count || 0)) / max);
      const y = 2 + i * row;
      svg.appendChild(s("rect", { x: label + (area - w) / 2, y, width: w, height: row - 6, rx: 3, class: "chart-bar c" + i }));
      svg.appendChild(s("text", { x: label - 6, y: y + 19, "text-anchor": "end", class: "chart-label" }, R.t("stage." + st.stage)));
      // each rate says what it is of (forwards and leads are both out of visits)
      const pct = st.rate === null || st.rate === undefined ? "" : st.of ? R.t("funnel.rate_of", { rate: R.pct(st.rate), stage: R.t("stage." + st.of) }) : R.pct(st.rate);
      svg.appendChild(s("text", { x: label + area + 6, y: y + 19, class: "chart-value", "data-stage": st.stage }, R.num(st.count) + (pct ? " (" + pct + ")" : "")));
    });
    return svg;
  };

  /** One stacked bar of parts [{label, value}] with a legend. */
  R.stackChart = function (parts) {
    const total = parts.reduce((a, p) => a + (p.value || 0), 0);
    if (!total) return R.empty("common.nodata");
    const width = 480;
    const said = parts.map((p) => p.label + " " + R.num(p.value)).join(", ");
    const svg = s("svg", { viewBox: "0 0 " + width + " 30", class: "chart stack-chart", role: "img", "aria-label": said });
    let x = 0;
    parts.forEach((p, i) => {
      const w = (width * (p.value || 0)) / total;
      svg.appendChild(s("rect", { x, y: 0, width: w, height: 30, class: "chart-bar c" + i }, s("title", null, p.label + ": " + R.num(p.value))));
      x += w;
    });
    const legend = R.h("div", { class: "legend" }, parts.map((p, i) => R.h("span", { class: "legend-item" }, R.h("i", { class: "swatch c" + i }), p.label + " " + R.num(p.value))));
    return R.h("div", { class: "chart-box" }, svg, legend);
  };

  // ------------------------------------------------------------------ leaderboards (both pages)

  R.periodOptions = function () {
    const now = R.today();
    return [
      ["all", "period.all"],
      [R.day(now), "period.today"],
      [R.isoWeek(now), "period.week"],
      [R.day(now).slice(0, 7), "period.month"],
    ];
  };

  /** The leaderboard view: controls, a bar chart and the ranking, refreshed every 5 s. */
  R.leaderboardView = function (root, campaigns, options) {
    const o = options || {};
    const dim = R.select([["employee", "dim.employee"], ["team", "dim.team"], ["region", "dim.region"]], { id: "lb-dim" });
    const period = R.select(R.periodOptions(), { id: "lb-period" });
    const camp = R.select([["", "common.all_campaigns"]].concat(campaigns.map((c) => [c.campaign_id, { text: c.name }])), { id: "lb-campaign" });
    const out = R.h("div", { class: "lb-out" });
    root.appendChild(R.card("nav.boards", R.h("div", { class: "controls" }, R.field("lb.dimension", dim), R.field("lb.period", period), R.field("common.campaign", camp)), out));
    const load = async () => {
      const q = new URLSearchParams({ dimension: dim.value, period: period.value, limit: "20" });
      if (camp.value) q.set("campaign_id", camp.value);
      const data = await R.api("GET", "/leaderboards?" + q);
      R.clear(out);
      const names = Object.assign({}, o.names || {}, data.names || {});
      const label = (e) => (dim.value === "employee" && names[e.id]) || e.id;
      // "me": my own row (employee boards), or my team's / region's (o.me: {employee_id, team, region})
      const me = typeof o.me === "function" ? o.me() : o.me;
      const mine = me ? { employee: me.employee_id, team: me.team, region: me.region }[dim.value] : null;
      out.appendChild(R.barChart(data.entries.slice(0, 10).map((e) => ({ label: label(e), value: e.score })), { emptyKey: "lb.empty" }));
      const table = R.table(
        [
          { label: "lb.rank", value: (e) => e.rank, num: true },
          { label: "lb.member", value: (e) => (e.id === mine ? R.h("strong", null, label(e), R.h("span", { class: "badge me", i18n: "lb.me" })) : label(e)) },
          { label: "lb.score", value: (e) => R.num(e.score), num: true },
        ],
        data.entries,
        { emptyKey: "lb.empty" }
      );
      table.querySelectorAll("tbody tr").forEach((tr, i) => {
        if (data.entries[i].id === mine) {
          tr.classList.add("me");
          tr.setAttribute("aria-current", "true");
        }
      });
      out.appendChild(table);
    };
    for (const el of [dim, period, camp]) el.addEventListener("change", () => load().catch((e) => R.toast(R.errorText(e), "error")));
    return R.poll(load, 5000);
  };

  // ------------------------------------------------------------------ customer detail (both pages)

  R.STATUSES = ["new", "contacted", "qualified", "won", "lost"];

  /** One customer: fields, spread path, notes and history, and what the caller may do with
   * it — add a note and change the status (admins and the owning employee), record a
   * conversion (admins only: POST /admin/customers/{id}/convert).
   * opts: {admin, names: {employee_id: name}, campaignName: id => name, onChange: () => void} */
  R.customerDetail = async function (box, customerId, opts) {
    const o = opts || {};
    const h = R.h;
    const campaignName = o.campaignName || ((id) => id);
    const who = (id) => {
      if (!id) return "–";
      if (id === "pool") return R.t("customer.pool");
      if (o.names && o.names[id]) return o.names[id];
      return R.has("actor." + id) ? R.t("actor." + id) : id;
    };
    const c = await R.api("GET", "/customers/" + encodeURIComponent(customerId));
    const again = async (toastText) => {
      R.toast(toastText, "ok");
      await R.customerDetail(box, customerId, o);
      if (o.onChange) o.onChange(customerId);
    };
    const act = (fn) => async (e) => {
      e.preventDefault();
      const button = e.target.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      try {
        await fn();
      } catch (err) {
        R.toast(R.errorText(err), "error");
        if (button) button.disabled = false;
      }
    };

    const field = (name, labelKey, value) =>
      h("div", { class: "cd-field", "data-field": name }, h("dt", { i18n: labelKey }), h("dd", null, value === null || value === undefined || value === "" ? "–" : value));
    const touch = (t) => (t && t.employee_id ? who(t.employee_id) + " · " + R.time(t.at) : "–");
    const src = c.source || {};
    const chain = c.chain || {};
    const pathStep = (node, i, all) => {
      if (i === 0) return who(String(node).replace(/^-/, ""));
      if (i === all.length - 1) return c.name || R.t("customer.this");
      return R.t("customer.visitor_n", { n: i });
    };
    // tags: each with its own remove button; new ones added below (the owner and admins)
    const patchTags = async (body, toastKey) => {
      try {
        await R.api("PATCH", "/customers/" + encodeURIComponent(customerId), body);
        await again(R.t(toastKey));
      } catch (err) {
        R.toast(R.errorText(err), "error");
      }
    };
    const tagChips = c.tags.length
      ? h(
          "span",
          { class: "cd-tags", id: "cd-tags" },
          c.tags.map((t) =>
            h(
              "span",
              { class: "badge tag", "data-tag": t },
              t,
              h("button", { type: "button", class: "tag-remove", "data-remove-tag": t, "aria-label": R.t("customer.tag_remove", { tag: t }), text: "×", on: { click: () => patchTags({ remove_tags: [t] }, "customer.tags_saved") } })
            )
          )
        )
      : null;
    const fields = h(
      "dl",
      { class: "cd-fields" },
      field("contact", "customer.contact", R.contact(c.phone, c.email)),
      field("owner", "customer.owner", c.owner ? who(c.owner) : R.t("customer.pool")),
      field("status", "customer.status", h("span", { class: "badge", i18n: "status." + c.status })),
      field("tags", "customer.tags", tagChips),
      field("source", "customer.source", [campaignName(src.campaign_id), src.channel ? R.t("channel." + src.channel) : null].filter(Boolean).join(" · ")),
      field("first_touch", "customer.first_touch", touch(c.first_touch)),
      field("last_touch", "customer.last_touch", touch(c.last_touch)),
      field("leads", "customer.leads", R.num(c.leads)),
      field("last_contacted", "customer.last_contacted", R.time(c.last_contacted_at)),
      field("created", "common.created", R.time(c.created_at)),
      chain.path && chain.path.length
        ? field(
            "chain",
            "customer.chain",
            h(
              "span",
              null,
              // by name: the employee, the people it passed through, this customer (ids on hover)
              h("span", { class: "cd-path", title: chain.path.join(" → ") }, chain.path.map(pathStep).join(" → ")),
              h("small", { class: "muted", text: " " + R.t("customer.chain_meta", { depth: chain.depth, visitors: R.num((chain.influence || {}).visitors || 0), forwards: R.num((chain.influence || {}).forwards || 0) }) })
            )
          )
        : null,
      chain.influenced_by ? field("influenced_by", "customer.influenced_by", h("code", { text: chain.influenced_by.customer_id || chain.influenced_by.node })) : null
    );

    // actions
    const status = R.select(R.STATUSES.map((s) => [s, "status." + s]), { id: "cd-status" });
    status.value = c.status;
    const statusForm = h(
      "form",
      { class: "form cd-form", id: "cd-status-form" },
      R.field("customer.status", status),
      h("button", { type: "submit", class: "btn small", id: "cd-status-save", i18n: "customer.status_save", disabled: true })
    );
    const statusSave = statusForm.querySelector("button");
    status.addEventListener("change", () => (statusSave.disabled = status.value === c.status));
    statusForm.addEventListener(
      "submit",
      act(async () => {
        await R.api("PATCH", "/customers/" + encodeURIComponent(customerId), { status: status.value });
        await again(R.t("customer.status_saved"));
      })
    );
    const tagInput = h("input", { type: "text", id: "cd-tag", required: true, maxlength: "200", autocomplete: "off", "data-i18n-placeholder": "customer.tag_hint", placeholder: R.t("customer.tag_hint") });
    const tagForm = h(
      "form",
      { class: "form cd-form", id: "cd-tag-form" },
      R.field("customer.tag_new", tagInput),
      h("button", { type: "submit", class: "btn small", id: "cd-tag-add", i18n: "customer.tag_add" })
    );
    tagForm.addEventListener(
      "submit",
      act(async () => {
        // several at once, comma-separated (、 and ， too); the API checks each
        const add = tagInput.value.split(/[,、，]/).map((t) => t.trim()).filter(Boolean);
        await R.api("PATCH", "/customers/" + encodeURIComponent(customerId), { add_tags: add });
        await again(R.t("customer.tags_saved"));
      })
    );
    const note = h("textarea", { id: "cd-note", rows: "3", required: true, maxlength: "2000" });
    const noteForm = h(
      "form",
      { class: "form cd-form", id: "cd-note-form" },
      R.field("customer.note_new", note),
      h("button", { type: "submit", class: "btn small", id: "cd-note-add", i18n: "customer.note_add" })
    );
    noteForm.addEventListener(
      "submit",
      act(async () => {
        await R.api("POST", "/customers/" + encodeURIComponent(customerId) + "/notes", { text: note.value });
        await again(R.t("customer.note_added"));
      })
    );
    let convertForm = null;
    if (o.admin) {
      const amount = h("input", { type: "number", id: "cd-amount", min: "0.01", step: "0.01", required: true, inputmode: "decimal" });
      const currency = h("input", { type: "text", id: "cd-currency", required: true, maxlength: "3", pattern: "[A-Za-z]{3}", value: "CNY", autocomplete: "off" });
      const camp = c.campaigns.length > 1 ? R.select(c.campaigns.map((id) => [id, { text: campaignName(id) }]), { id: "cd-campaign" }) : null;
      if (camp) camp.value = src.campaign_id;
      convertForm = h(
        "form",
        { class: "form cd-form", id: "cd-convert-form" },
        h("div", { class: "row" }, R.field("customer.amount", amount), R.field("customer.currency", currency)),
        camp ? R.field("common.campaign", camp) : null,
        h("button", { type: "submit", class: "btn small", id: "cd-convert", i18n: "customer.convert" })
      );
      convertForm.addEventListener(
        "submit",
        act(async () => {
          const body = { amount: amount.value, currency: currency.value.trim().toUpperCase() };
          if (camp) body.campaign_id = camp.value;
          const done = await R.api("POST", "/admin/customers/" + encodeURIComponent(customerId) + "/convert", body);
          await again(R.t("customer.converted", { deal: done.deal }));
        })
      );
    }

    // notes and history (newest first, as the API gives them)
    const eventText = (e) => {
      const d = e.data || {};
      switch (e.kind) {
        case "note":
          return d.text;
        case "status":
          return R.t("status." + d.from) + " → " + R.t("status." + d.to);
        case "conversion":
          return d.amount + (d.campaign_id ? " · " + campaignName(d.campaign_id) : "");
        case "tags":
          return (d.tags || []).join(", ") || "–";
        case "lead": {
          // what a repeat lead said that differs from the customer (it never overwrites them:
          // the owner reviews it here)
          const sub = d.submitted || {};
          const said = ["name", "phone", "email"].filter((k) => sub[k] && sub[k] !== c[k]).map((k) => sub[k]).join(", ");
          return [campaignName(d.campaign_id), d.channel ? R.t("channel." + d.channel) : null, said, d.message].filter(Boolean).join(" · ");
        }
        case "handover":
        case "recycle":
        case "claim":
          return (d.from ? who(d.from) + " → " : "") + who(d.to);
        default:
          return "";
      }
    };
    const eventItem = (e, withKind) =>
      h(
        "li",
        { "data-kind": e.kind },
        h(
          "div",
          { class: "cd-event-head" },
          withKind ? h("strong", { class: "cd-kind", text: R.has("event." + e.kind) ? R.t("event." + e.kind) : e.kind }) : null,
          h("span", { class: "muted", text: who(e.actor) + " · " + R.time(e.at) })
        ),
        eventText(e) ? h("p", { class: "cd-text", text: eventText(e) }) : null
      );
    const history = c.history || [];
    const notes = history.filter((e) => e.kind === "note");

    R.clear(box);
    box.setAttribute("data-customer", customerId);
    box.appendChild(h("div", { class: "task-head cd-head" }, h("h3", { class: "cd-name", text: c.name || "–" }), h("span", { class: "badge", i18n: "status." + c.status })));
    box.appendChild(fields);
    box.appendChild(h("div", { class: "cd-actions" }, statusForm, tagForm, noteForm, convertForm));
    box.appendChild(h("h4", { i18n: "customer.notes" }));
    box.appendChild(notes.length ? h("ul", { class: "cd-events", id: "cd-notes" }, notes.map((e) => eventItem(e, false))) : R.empty("customer.no_notes"));
    box.appendChild(h("h4", { i18n: "customer.history" }));
    box.appendChild(history.length ? h("ul", { class: "cd-events", id: "cd-history" }, history.map((e) => eventItem(e, true))) : R.empty("common.empty"));
    return c;
  };

  // ------------------------------------------------------------------ app shell (both pages)

  /** Sign-in screen, tabs and views. views: {name: (root) => stopFn|undefined}. */
  R.start = async function (config) {
    await R.loadI18n();
    const login = document.getElementById("login");
    const app = document.getElementById("app");
    const logout = document.getElementById("logout");
    const who = document.getElementById("who");
    const tabs = document.getElementById("tabs");
    const view = document.getElementById("view");
    let stopView = null;
    let current = null;
    let currentArg = null;
    const views = Object.assign({}, config.views, config.hidden || {});

    const forms = ["login-form", "newpw-form", "reset-form"].map((id) => document.getElementById(id));
    const note = document.getElementById("login-note");
    let pending = null; // {email, session}: a first sign-in that must choose a password
    let accepted = false; // this sign-in accepts an invitation (an admin's is handed to /console)
    const showForm = (id, errorKey, errorText) => {
      for (const form of forms) form.hidden = form.id !== id;
      const err = document.getElementById(id.replace("-form", "-error"));
      for (const e of login.querySelectorAll(".error")) e.hidden = true;
      if (err && (errorKey || errorText)) {
        err.hidden = false;
        err.textContent = errorText || R.t(errorKey);
      }
    };
    const showLogin = (errorKey, errorText) => {
      if (stopView) stopView();
      stopView = null;
      app.hidden = true;
      logout.hidden = true;
      who.textContent = "";
      login.hidden = false;
      note.hidden = true;
      showForm("login-form", errorKey, errorText);
    };
    const failure = (err) => (err instanceof R.ApiError && err.status < 500 && err.body ? R.errorText(err) : R.t("auth.failed"));

    // Views live in the URL (#/<view>[/<argument>]): a reload, a bookmark or a shared link opens
    // the same view after sign-in, and the browser's back button goes to the previous one.
    const routeOf = () => {
      const m = /^#\/([a-z_]+)(?:\/([^/]+))?$/.exec(location.hash || "");
      if (!m || !views[m[1]]) return null;
      try {
        return { name: m[1], arg: m[2] ? decodeURIComponent(m[2]) : null };
      } catch (e) {
        return null;
      }
    };
    const routed = routeOf();
    if (routed) {
      current = routed.name;
      currentArg = routed.arg;
    }
    const keepRoute = (name, arg, replace) => {
      const hash = "#/" + name + (arg !== null && arg !== undefined ? "/" + encodeURIComponent(arg) : "");
      if (location.hash === hash) return;
      if (replace) history.replaceState(null, "", hash);
      else history.pushState(null, "", hash);
    };
    window.addEventListener("popstate", () => {
      const route = routeOf();
      if (route && !app.hidden && (route.name !== current || route.arg !== currentArg)) open(route.name, route.arg, "none");
    });

    /** Show a view (hidden views take an argument, e.g. a task id); stops the previous one's
     * polling. ``history``: "push" (a click: a new history entry), "replace" or "none". */
    const open = (name, arg, history) => {
      if (stopView) stopView();
      stopView = null;
      current = name;
      currentArg = arg === undefined ? null : arg;
      if (history !== "none") keepRoute(current, currentArg, history === "replace");
      const tab = config.views[name] ? name : config.parentOf && config.parentOf[name];
      tabs.querySelectorAll("button").forEach((b) => b.setAttribute("aria-current", b.dataset.view === tab ? "page" : "false"));
      R.clear(view);
      view.setAttribute("aria-busy", "true"); // until the view's first data arrives (R.poll)
      const result = views[name](view, currentArg);
      stopView = typeof result === "function" ? result : null;
      // a view that loads without R.poll shows no placeholders (and none that outstay 10 s)
      if (!stopView) view.removeAttribute("aria-busy");
      else setTimeout(() => view.removeAttribute("aria-busy"), 10000);
    };
    R.open = open;

    const showApp = async () => {
      let claims = R.claims(R.token() || "");
      if (claims && claims.exp && claims.exp * 1000 < Date.now()) {
        claims = (await R.refresh()) ? R.claims(R.token() || "") : null;
        if (!claims) {
          R.forgetToken();
          return showLogin("auth.expired");
        }
      }
      if (!claims || !claims.tenant || !claims.sub) {
        R.forgetToken();
        return showLogin("auth.invalid");
      }
      if (claims.role !== config.role) {
        const other = claims.role === "admin" ? "console" : "m";
        if (accepted && R.handOver(other, { id_token: R.token(), refresh_token: R.refreshToken() })) {
          R.forgetToken();
          return;
        }
        await R.signOut();
        return showLogin(config.role === "admin" ? "auth.need_admin" : "auth.need_employee");
      }
      // Load what every view needs first, then show the app once (a tab clicked meanwhile
      // would otherwise be rendered twice and lose what was typed into it).
      if (config.onSignIn) await config.onSignIn(claims);
      if (!R.token()) return; // signed out (401) while loading
      R.startLive();
      login.hidden = true;
      app.hidden = false;
      logout.hidden = false;
      who.textContent = R.t("auth.signed_in_as", { name: claims.sub, tenant: claims.tenant });
      open(current || config.first, currentArg, "replace");
    };

    const signedIn = (result, remember) => {
      if (result.challenge === "NEW_PASSWORD_REQUIRED") {
        pending.session = result.session;
        document.getElementById("new-password").value = "";
        return showForm("newpw-form");
      }
      pending = null;
      R.setTokens(result, remember);
      return showApp();
    };

    R.onUnauthorized(() => {
      R.forgetToken();
      showLogin("auth.expired");
    });

    R.clear(tabs);
    for (const name of Object.keys(config.views)) {
      tabs.appendChild(R.h("button", { type: "button", "data-view": name, on: { click: () => open(name) } }, R.h("span", { class: "tab-label", i18n: "nav." + name })));
    }
    R.onLang(() => {
      if (!app.hidden && current) {
        const claims = R.claims(R.token() || "");
        if (claims) who.textContent = R.t("auth.signed_in_as", { name: claims.sub, tenant: claims.tenant });
        open(current, currentArg, "none");
      }
    });

    const remember = document.getElementById("remember");
    document.getElementById("login-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const email = document.getElementById("email").value.trim();
      const password = document.getElementById("password");
      if (!email || !password.value) return showForm("login-form", "auth.missing");
      pending = { email, session: null };
      try {
        const result = await R.auth("sign-in", { email, password: password.value });
        password.value = "";
        await signedIn(result, remember.checked);
      } catch (err) {
        showForm("login-form", null, err instanceof R.ApiError && err.status === 401 ? R.t("auth.wrong") : failure(err));
      }
    });
    document.getElementById("newpw-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const input = document.getElementById("new-password");
      if (!pending || !pending.session) return showLogin(null);
      try {
        const result = await R.auth("new-password", { email: pending.email, session: pending.session, new_password: input.value });
        input.value = "";
        await signedIn(result, remember.checked);
      } catch (err) {
        if (err instanceof R.ApiError && err.status === 401) return showLogin("auth.expired");
        showForm("newpw-form", null, failure(err));
      }
    });
    document.getElementById("forgot").addEventListener("click", async () => {
      const email = document.getElementById("email").value.trim();
      if (!email) return showForm("login-form", "auth.need_email");
      try {
        await R.auth("forgot-password", { email });
        pending = { email, session: null };
        showForm("reset-form");
      } catch (err) {
        showForm("login-form", null, failure(err));
      }
    });
    document.getElementById("reset-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const code = document.getElementById("reset-code");
      const password = document.getElementById("reset-password");
      try {
        await R.auth("reset-password", { email: pending.email, code: code.value.trim(), new_password: password.value });
        code.value = "";
        password.value = "";
        showLogin(null);
        note.hidden = false;
        note.textContent = R.t("auth.reset_done");
      } catch (err) {
        showForm("reset-form", null, failure(err));
      }
    });
    document.getElementById("reset-cancel").addEventListener("click", () => showLogin(null));
    logout.addEventListener("click", async () => {
      current = null;
      const hostedLogout = R.hostedLogoutUrl();
      const revoked = R.signOut(); // forgets the tokens at once, then revokes at Cognito
      showLogin(null); // stops the view before anything else is sent
      await revoked;
      if (hostedLogout) location.assign(hostedLogout); // and the Hosted UI's session cookie
    });

    const hosted = R.hostedUi();
    const ssoButton = document.getElementById("sso-signin");
    const ssoLabel = () => {
      ssoButton.textContent = hosted && hosted.idp ? R.t("auth.sso_with", { name: hosted.idp }) : R.t("auth.sso");
    };
    if (hosted) {
      document.getElementById("sso").hidden = false;
      ssoLabel();
      R.onLang(ssoLabel);
      ssoButton.addEventListener("click", () => R.startHostedSignIn(remember.checked));
    }
    const back = await R.finishHostedSignIn();
    if (back) {
      if (back.error) return showLogin(null, R.t("auth.sso_failed") + " — " + back.error);
      R.setTokens(back.tokens, back.remember);
      return showApp();
    }

    const invitation = R.takeInvitation();
    if (invitation) {
      // An invitation replaces whoever was signed in on this page (without revoking them:
      // it is not their sign-out), then asks for the new employee's own password.
      R.forgetToken();
      accepted = true;
      pending = { email: invitation.email, session: null };
      document.getElementById("email").value = invitation.email;
      try {
        const result = await R.auth("sign-in", { email: invitation.email, password: invitation.code });
        if (result.challenge === "NEW_PASSWORD_REQUIRED") {
          showLogin(null);
          note.hidden = false;
          note.textContent = R.t("auth.invite_welcome", { email: invitation.email });
        }
        return await signedIn(result, remember.checked);
      } catch (err) {
        accepted = false;
        return showLogin(null, err instanceof R.ApiError && err.status === 401 ? R.t("auth.invite_invalid") : failure(err));
      }
    }
    if (R.token()) await showApp();
    else showLogin(null);
  };
})();
