/* Ripple admin console (/console): dashboard (with CSV exports), campaigns, tasks with live
 * progress, leaderboards, customers, lead pool, rewards and redemptions, settlements and their
 * prizes, employees, fraud review (release and reversal) and settings (tenant, webhooks). */
"use strict";

(function () {
  const R = window.R;
  const h = R.h;
  let campaigns = [];
  let employees = [];

  async function loadCampaigns() {
    const out = [];
    let cursor = null;
    for (let i = 0; i < 20; i++) {
      const q = new URLSearchParams({ limit: "100" });
      if (cursor) q.set("cursor", cursor);
      const page = await R.api("GET", "/campaigns?" + q);
      out.push(...page.items);
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    out.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
    campaigns = out;
    return out;
  }

  async function loadEmployees() {
    employees = (await R.api("GET", "/admin/employees")).items;
    return employees;
  }

  const names = () => Object.fromEntries(employees.map((e) => [e.employee_id, e.name || e.employee_id]));
  const campaignName = (id) => (campaigns.find((c) => c.campaign_id === id) || {}).name || id;
  const campaignSelect = (attrs, withAll) =>
    R.select((withAll ? [["", "common.all_campaigns"]] : []).concat(campaigns.map((c) => [c.campaign_id, { text: c.name }])), attrs);

  function fail(err) {
    R.toast(R.errorText(err), "error");
  }

  // ------------------------------------------------------------------ dashboard (analytics)

  const METRICS = ["exposures", "visits", "card_views", "unique_visitors", "forwards", "leads", "conversions", "points"];
  const BREAKDOWNS = ["channel", "team", "region", "employee", "device", "os", "country", "subdivision", "city", "campaign"];

  function dashboard(root) {
    // Empty until the first answer: the server picks the last 30 days in the *tenant's* time
    // zone (the browser's "today" may already be tomorrow or still yesterday there).
    const from = h("input", { type: "date", id: "dash-from" });
    const to = h("input", { type: "date", id: "dash-to" });
    const camp = campaignSelect({ id: "dash-campaign" }, true);
    const by = R.select(BREAKDOWNS.map((b) => [b, "by." + b]), { id: "dash-by" });
    const totals = h("div", { class: "stats", id: "dash-totals" });
    const funnel = h("div", { id: "dash-funnel" });
    const depth = h("div", { id: "dash-depth" });
    const series = h("div", { id: "dash-series" });
    const breakdown = h("div", { id: "dash-breakdown" });
    const segments = h("div", { id: "dash-segments" });
    root.appendChild(
      R.card(
        "dash.title",
        h("div", { class: "controls" }, R.field("dash.from", from), R.field("dash.to", to), R.field("common.campaign", camp)),
        totals
      )
    );
    const grid = h(
      "div",
      { class: "grid" },
      R.card("dash.funnel", funnel),
      R.card("dash.depth", depth),
      R.card("dash.timeseries", series),
      R.card("dash.breakdown", h("div", { class: "controls" }, R.field("dash.by", by)), breakdown),
      R.card("dash.segments", segments),
      exportsCard()
    );
    root.appendChild(grid);

    const query = (extra) => {
      const q = new URLSearchParams();
      if (from.value) q.set("from", from.value);
      if (to.value) q.set("to", to.value);
      if (camp.value) q.set("campaign", camp.value);
      for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
      return q;
    };
    const unavailable = () => {
      R.clear(totals).appendChild(R.empty("dash.unavailable"));
      for (const el of [funnel, depth, series, breakdown, segments]) R.clear(el).appendChild(R.empty("common.nodata"));
    };

    const load = async () => {
      let summary;
      try {
        summary = await R.api("GET", "/analytics/summary?" + query());
      } catch (err) {
        if (err.status === 404) return unavailable();
        throw err;
      }
      if (!from.value && summary.from) from.value = summary.from;
      if (!to.value && summary.to) to.value = summary.to;
      R.clear(totals);
      for (const m of METRICS) totals.appendChild(R.stat("metric." + m, (summary.totals || {})[m] || 0, m));
      R.clear(funnel).appendChild(R.funnelChart(summary.funnel || []));
      const d = summary.depth || {};
      R.clear(depth).appendChild(R.barChart(Object.keys(d).map((k) => ({ label: R.t("dash.depth_n", { n: k }), value: d[k] }))));
      const ts = await R.api("GET", "/analytics/timeseries?" + query());
      R.clear(series).appendChild(
        R.lineChart(ts.days || [], ["visits", "unique_visitors", "leads"].map((k) => ({ key: k, label: R.t("metric." + k) })))
      );
      const bd = await R.api("GET", "/analytics/breakdown?" + query({ by: by.value, limit: "10" }));
      const label = (key) => {
        if (by.value === "channel") return R.has("channel." + key) ? R.t("channel." + key) : key;
        if (by.value === "campaign") return campaignName(key);
        if (by.value === "employee") return names()[key] || key;
        return key;
      };
      R.clear(breakdown).appendChild(R.barChart((bd.rows || []).map((r) => ({ label: label(r.key), value: r.visits || 0 }))));
      const sg = await R.api("GET", "/analytics/segments");
      const parts = ["light", "medium", "heavy"].map((k) => ({ label: R.t("segment." + k), value: (sg.segments || {})[k] || 0 }));
      const reach = sg.reach || {};
      R.clear(segments).appendChild(R.stackChart(parts));
      segments.appendChild(h("div", { class: "stats" }, R.stat("segment.touched", reach.touched || 0), R.stat("segment.reachable", reach.reachable || 0)));
    };
    for (const el of [from, to, camp, by]) el.addEventListener("change", () => load().catch(fail));
    return R.poll(load, 5000);
  }

  // ------------------------------------------------------------------ campaigns

  /** One campaign: edit (name, destination, window), end now, duplicate, archive. An edit of
   * the destination or window is copied onto every link; the page keeps asking the API to
   * continue until every link carries it. */
  function campaignDetail(root, id) {
    const box = h("section", { class: "card", id: "campaign-detail", "aria-live": "polite" });
    root.appendChild(box);
    const back = () => R.open("campaigns", null, "push");
    const finishLinks = async (c) => {
      let current = c;
      let updated = c.links_updated || 0;
      for (let i = 0; current.links_pending && i < 200; i++) {
        R.toast(R.t("campaign.links_progress", { n: R.num(updated) }), "ok");
        current = await R.api("POST", "/admin/campaigns/" + encodeURIComponent(id) + "/links/sync");
        updated += current.links_updated || 0;
      }
      return { current, updated };
    };
    const draw = (c) => {
      const name = h("input", { type: "text", id: "cd-name", required: true, maxlength: "200", value: c.name });
      const url = h("input", { type: "url", id: "cd-url", placeholder: c.destination_url ? "https://" : R.t("campaign.hosted_page"), value: c.destination_url || "" });
      const toLocal = (iso) => (iso ? R.isoToLocalInput(new Date(iso)) : "");
      const starts = h("input", { type: "datetime-local", id: "cd-starts", value: toLocal(c.starts_at) });
      const ends = h("input", { type: "datetime-local", id: "cd-ends", value: toLocal(c.ends_at) });
      const frozen = c.status === "archived";
      [name, url, starts, ends].forEach((i) => (i.disabled = frozen));
      const inputs = { name, destination_url: url, starts_at: starts, ends_at: ends };
      const save = h("button", { type: "submit", class: "btn", id: "cd-save", i18n: "common.save", disabled: frozen || null });
      const form = h(
        "form",
        { id: "campaign-edit", class: "form" },
        R.field("campaign.name", name),
        R.field("campaign.destination", url, c.destination_url ? null : "campaign.hosted_page"),
        h("div", { class: "row" }, R.field("campaign.starts", starts, "common.optional"), R.field("campaign.ends", ends, "common.optional")),
        save
      );
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        Object.values(inputs).forEach((i) => i.removeAttribute("aria-invalid"));
        const body = {};
        if (name.value.trim() !== c.name) body.name = name.value.trim();
        if (url.value.trim() && url.value.trim() !== c.destination_url) body.destination_url = url.value.trim();
        if (starts.value !== toLocal(c.starts_at)) body.starts_at = R.localToIso(starts.value);
        if (ends.value !== toLocal(c.ends_at)) body.ends_at = R.localToIso(ends.value);
        if (!Object.keys(body).length) return R.toast(R.t("campaign.unchanged"), "ok");
        save.disabled = true;
        try {
          const { current, updated } = await finishLinks(await R.api("PATCH", "/admin/campaigns/" + encodeURIComponent(id), body));
          R.toast(R.t("campaign.saved", { n: R.num(updated) }), "ok");
          draw(current);
        } catch (err) {
          save.disabled = false;
          R.markRefused(err, inputs);
          fail(err);
        }
      });
      const act = async (button, method, path, done) => {
        button.disabled = true;
        try {
          const out = await R.api(method, "/admin/campaigns/" + encodeURIComponent(id) + path);
          await done(out);
        } catch (err) {
          button.disabled = false;
          fail(err);
        }
      };
      const actions = h("div", { class: "row actions", id: "cd-actions" });
      if (c.status === "active" || c.status === "scheduled") {
        // two steps: ending cannot be undone, so the first click only asks
        const end = h("button", { type: "button", class: "btn danger", id: "cd-end", i18n: "campaign.end" });
        end.addEventListener("click", () => {
          if (end.dataset.armed !== "1") {
            end.dataset.armed = "1";
            end.textContent = R.t("campaign.end_confirm");
            return;
          }
          act(end, "POST", "/end", async (out) => {
            const { current } = await finishLinks(out);
            R.toast(R.t("campaign.ended_now"), "ok");
            draw(current);
          });
        });
        actions.appendChild(end);
      }
      if (c.status === "ended") {
        const archive = h("button", { type: "button", class: "btn secondary", id: "cd-archive", i18n: "campaign.archive" });
        archive.addEventListener("click", () => act(archive, "POST", "/archive", async (out) => draw(out)));
        actions.appendChild(archive);
      }
      if (c.status === "archived") {
        const restore = h("button", { type: "button", class: "btn secondary", id: "cd-unarchive", i18n: "campaign.unarchive" });
        restore.addEventListener("click", () => act(restore, "DELETE", "/archive", async (out) => draw(out)));
        actions.appendChild(restore);
      }
      const dup = h("button", { type: "button", class: "btn secondary", id: "cd-duplicate", i18n: "campaign.duplicate" });
      dup.addEventListener("click", () =>
        act(dup, "POST", "/duplicate", async (out) => {
          R.toast(R.t("campaign.created", { name: out.name }), "ok");
          await loadCampaigns();
          R.open("campaigns", out.campaign_id, "push");
        })
      );
      actions.appendChild(dup);
      actions.appendChild(h("button", { type: "button", class: "btn secondary", id: "cd-back", i18n: "common.back", on: { click: back } }));
      R.clear(box).append(
        h("h2", null, h("span", { id: "cd-title", text: c.name }), " ", h("span", { class: "badge " + c.status, id: "cd-status", i18n: "campaign.status." + c.status })),
        h("p", { class: "muted" }, h("code", { text: c.campaign_id }), " · ", R.t("campaign.rules_version", { n: c.rules.version })),
        form,
        actions
      );
      loadCampaigns().catch(() => {});
    };
    box.setAttribute("aria-busy", "true");
    R.api("GET", "/campaigns/" + encodeURIComponent(id))
      .then((c) => {
        box.removeAttribute("aria-busy");
        root.removeAttribute("aria-busy");
        draw(c);
      })
      .catch((err) => {
        box.removeAttribute("aria-busy");
        root.removeAttribute("aria-busy");
        R.clear(box).appendChild(R.empty("campaign.not_found"));
        fail(err);
      });
  }

  function campaignsView(root, arg) {
    if (arg) return campaignDetail(root, arg);
    const list = h("div", { id: "campaign-list" });
    const archivedBox = h("input", { type: "checkbox", id: "campaign-archived" });
    const tools = h("label", { class: "inline", for: "campaign-archived" }, archivedBox, " ", h("span", { i18n: "campaign.show_archived" }));
    const name = h("input", { type: "text", id: "campaign-name", required: true, maxlength: "200" });
    const url = h("input", { type: "url", id: "campaign-url", required: true, placeholder: "https://" });
    const visit = h("input", { type: "number", id: "campaign-pts-visit", min: "0", value: "10" });
    const forward = h("input", { type: "number", id: "campaign-pts-forward", min: "0", value: "5" });
    const lead = h("input", { type: "number", id: "campaign-pts-lead", min: "0", value: "50" });
    const starts = h("input", { type: "datetime-local", id: "campaign-starts" });
    const ends = h("input", { type: "datetime-local", id: "campaign-ends" });
    const form = h(
      "form",
      { id: "campaign-form", class: "form" },
      R.field("campaign.name", name),
      R.field("campaign.destination", url),
      h("div", { class: "row" }, R.field("points.unique_visit", visit), R.field("points.forward", forward), R.field("points.lead", lead)),
      h("div", { class: "row" }, R.field("campaign.starts", starts, "common.optional"), R.field("campaign.ends", ends, "common.optional")),
      h("button", { type: "submit", class: "btn", id: "campaign-create", i18n: "campaign.create" })
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = {
        name: name.value.trim(),
        destination_url: url.value.trim(),
        points: { unique_visit: Number(visit.value || 0), forward: Number(forward.value || 0), lead: Number(lead.value || 0) },
      };
      if (starts.value) body.starts_at = R.localToIso(starts.value);
      if (ends.value) body.ends_at = R.localToIso(ends.value);
      try {
        const created = await R.api("POST", "/admin/campaigns", body);
        R.toast(R.t("campaign.created", { name: created.name }), "ok");
        form.reset();
        await render();
      } catch (err) {
        fail(err);
      }
    });
    root.appendChild(R.card("campaign.new", form));
    root.appendChild(R.card("nav.campaigns", tools, list));
    root.appendChild(companyCard());
    const render = async () => {
      await loadCampaigns();
      let rows = campaigns;
      if (archivedBox.checked) {
        const page = await R.api("GET", "/campaigns?archived=true&limit=100");
        rows = page.items;
      }
      R.clear(list).appendChild(
        R.table(
          [
            { label: "campaign.name", key: "name", value: (c) => c.name },
            { label: "campaign.status", key: "status", value: (c) => h("span", { class: "badge " + c.status, i18n: "campaign.status." + c.status }) },
            { label: "common.id", value: (c) => h("code", { text: c.campaign_id }) },
            { label: "campaign.destination", value: (c) => c.destination_url || R.t("campaign.hosted_page") },
            { label: "campaign.points", value: (c) => [c.points.unique_visit, c.points.forward, c.points.lead].join(" / ") },
            { label: "campaign.starts", value: (c) => R.time(c.starts_at) },
            { label: "campaign.ends", value: (c) => R.time(c.ends_at) },
          ],
          rows,
          { emptyKey: "campaign.none", onClick: (c) => R.open("campaigns", c.campaign_id, "push") }
        )
      );
    };
    archivedBox.addEventListener("change", () => render().catch(fail));
    render().catch(fail);
  }

  /** The company card: the company on every employee's business card, and the card an
   * offboarded employee's card link shows instead. The server names a refused field. */
  function companyCard() {
    const fields = [
      ["company", "card.company_name", "text", "100"],
      ["logo_url", "card.logo_url", "url", "512"],
      ["website", "card.website", "url", "512"],
      ["phone", "card.phone", "tel", "32"],
      ["email", "card.email", "email", "254"],
    ];
    const inputs = {};
    for (const [f, , type, max] of fields) inputs[f] = h("input", { id: "company-" + f, type, maxlength: max });
    inputs.intro = h("textarea", { id: "company-intro", rows: "3", maxlength: "500" });
    const form = h(
      "form",
      { class: "form", id: "company-card-form", novalidate: true },
      fields.map(([f, label]) => R.field(label, inputs[f])),
      R.field("card.intro", inputs.intro),
      h("button", { type: "submit", class: "btn", id: "company-card-save", i18n: "card.company_save" })
    );
    const show = R.formFiller(inputs, form.querySelector("#company-card-save"));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = {};
      for (const f of Object.keys(inputs)) {
        inputs[f].removeAttribute("aria-invalid");
        body[f] = inputs[f].value;
      }
      try {
        show(await R.api("PUT", "/admin/card", body), true);
        R.toast(R.t("card.saved"), "ok");
      } catch (err) {
        R.markRefused(err, inputs);
        fail(err);
      }
    });
    R.api("GET", "/admin/card").then((data) => show(data, false), fail);
    return R.card("card.company", form);
  }

  // ------------------------------------------------------------------ tasks

  const COUNTERS = ["delivered", "opened", "shared", "unique_visits", "forwards", "leads"];

  function tasksView(root) {
    const list = h("div", { id: "task-list" });
    const detail = h("div", { id: "task-detail" });
    const camp = campaignSelect({ id: "task-campaign", required: true }, false);
    const title = h("input", { type: "text", id: "task-title", required: true, maxlength: "200" });
    const copy = h("textarea", { id: "task-copy", rows: "3", required: true, maxlength: "2000" });
    const channels = h(
      "fieldset",
      { class: "checks", id: "task-channels" },
      h("legend", { i18n: "task.channels" }),
      R.CHANNELS.map((c) =>
        h("label", { class: "check" }, h("input", { type: "checkbox", value: c, checked: c === "wechat" }), h("span", { i18n: "channel." + c }))
      )
    );
    const audience = R.select(
      [
        ["all", "audience.all"],
        ["teams", "audience.teams"],
        ["regions", "audience.regions"],
        ["employees", "audience.employees"],
      ],
      { id: "task-audience" }
    );
    // the audience is picked, not typed: teams and regions with their head counts, or people by
    // name (filtered as you type); the count of who will get the task follows every change
    const targeted = () => employees.filter((e) => e.status !== "offboarded"); // resolve_audience: active only
    const filter = h("input", { type: "search", id: "task-audience-filter", maxlength: "100", autocomplete: "off", "data-i18n-placeholder": "task.audience_filter", placeholder: R.t("task.audience_filter"), "aria-label": R.t("task.audience_filter") });
    const options = h("div", { class: "picker-options", id: "task-audience-options" });
    const picker = h("fieldset", { class: "checks picker", id: "task-audience-picker", hidden: true }, h("legend", { id: "task-audience-legend" }), filter, options);
    const reach = h("p", { class: "muted", id: "task-reach", "aria-live": "polite" });
    const chosen = () => [...options.querySelectorAll("input:checked")].map((i) => i.value);
    const updateReach = () => {
      const kind = audience.value;
      const picked = new Set(chosen());
      const key = kind === "teams" ? "team" : "region";
      const n =
        kind === "all" ? targeted().length : kind === "employees" ? picked.size : targeted().filter((e) => picked.has(e[key])).length;
      reach.textContent = R.t("task.reach", { n: R.num(n) });
    };
    const drawPicker = () => {
      const kind = audience.value;
      picker.hidden = kind === "all";
      filter.value = "";
      filter.hidden = kind !== "employees";
      R.clear(options);
      if (kind !== "all") {
        picker.querySelector("legend").textContent = R.t("audience." + kind);
        let items;
        if (kind === "employees") {
          items = targeted()
            .map((e) => [e.employee_id, (e.name || e.employee_id) + " · " + e.team])
            .sort((a, b) => a[1].localeCompare(b[1]));
        } else {
          const key = kind === "teams" ? "team" : "region";
          const counts = new Map();
          for (const e of targeted()) counts.set(e[key], (counts.get(e[key]) || 0) + 1);
          items = [...counts].sort((a, b) => String(a[0]).localeCompare(String(b[0]))).map(([v, n]) => [v, v + " (" + R.num(n) + ")"]);
        }
        if (!items.length) options.appendChild(R.empty("employee.none"));
        for (const [value, label] of items) {
          options.appendChild(h("label", { class: "check", "data-search": label.toLowerCase() }, h("input", { type: "checkbox", value }), h("span", { text: label })));
        }
      }
      updateReach();
    };
    audience.addEventListener("change", drawPicker);
    options.addEventListener("change", updateReach);
    filter.addEventListener("input", () => {
      const q = filter.value.trim().toLowerCase();
      for (const label of options.querySelectorAll("label")) label.hidden = !!q && !label.dataset.search.includes(q) && !label.querySelector("input").checked;
    });
    const deadline = h("input", { type: "datetime-local", id: "task-deadline", required: true, value: R.isoToLocalInput(new Date(Date.now() + 7 * 86400000)) });
    const form = h(
      "form",
      { id: "task-form", class: "form" },
      campaigns.length ? null : R.empty("task.need_campaign"),
      R.field("common.campaign", camp),
      R.field("task.title", title),
      R.field("task.copy", copy, "task.copy_hint"),
      channels,
      R.field("task.audience", audience),
      picker,
      reach,
      R.field("task.deadline", deadline),
      h("button", { type: "submit", class: "btn", id: "task-create", i18n: "task.create" })
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const picked = Array.from(channels.querySelectorAll("input:checked")).map((i) => i.value);
      const texts = copy.value.split(/\n\s*\n/).map((t) => t.trim()).filter(Boolean);
      const aud = audience.value === "all" ? { all: true } : { [audience.value]: chosen() };
      const body = {
        campaign_id: camp.value,
        title: title.value.trim(),
        copies: texts.map((text) => ({ text })),
        channels: picked,
        audience: aud,
        deadline: R.localToIso(deadline.value),
      };
      try {
        const task = await R.api("POST", "/admin/tasks", body);
        R.toast(R.t("task.created", { n: task.audience_size }), "ok");
        title.value = "";
        copy.value = "";
        await renderList();
        showTask(task.task_id);
      } catch (err) {
        fail(err);
      }
    });
    root.appendChild(h("div", { class: "grid" }, R.card("task.new", form), R.card("task.progress", detail)));
    drawPicker();
    root.appendChild(R.card("nav.tasks", list));

    let stopDetail = null;
    const showTask = (taskId) => {
      if (stopDetail) stopDetail();
      stopDetail = R.poll(async () => {
        const data = await R.api("GET", "/admin/tasks/" + encodeURIComponent(taskId));
        R.clear(detail);
        detail.setAttribute("data-task", taskId);
        const t = data.task;
        detail.appendChild(h("h3", { text: t.title }));
        detail.appendChild(
          h(
            "p",
            { class: "muted" },
            R.t("task.meta", { campaign: campaignName(t.campaign_id), n: t.audience_size, deadline: R.time(t.deadline) }),
            " ",
            h("span", { class: "badge " + t.state, i18n: "state." + t.state })
          )
        );
        const total = data.progress.total || {};
        detail.appendChild(h("div", { class: "stats", id: "task-totals" }, COUNTERS.map((c) => R.stat("counter." + c, total[c] || 0, c))));
        const rate = total.delivered ? (total.shared || 0) / total.delivered : null;
        detail.appendChild(h("p", { class: "muted", text: R.t("task.share_rate", { rate: R.pct(rate) }) }));
        const teams = Object.entries(data.progress.by_team || {});
        if (teams.length) {
          detail.appendChild(h("h4", { i18n: "task.by_team" }));
          detail.appendChild(R.barChart(teams.map(([k, v]) => ({ label: k || "–", value: v.unique_visits || 0 }))));
        }
        const regions = Object.entries(data.progress.by_region || {});
        if (regions.length) {
          detail.appendChild(h("h4", { i18n: "task.by_region" }));
          detail.appendChild(R.barChart(regions.map(([k, v]) => ({ label: k || "–", value: v.unique_visits || 0 }))));
        }
        if (data.proofs.length) {
          detail.appendChild(h("h4", { i18n: "task.proofs" }));
          detail.appendChild(
            R.table(
              [
                { label: "common.employee", value: (p) => names()[p.employee_id] || p.employee_id },
                { label: "task.proof", value: (p) => p.url || p.screenshot_material_id },
                { label: "common.at", value: (p) => R.time(p.at) },
              ],
              data.proofs
            )
          );
        }
      }, 2000);
    };

    const renderList = async () => {
      const data = await R.api("GET", "/admin/tasks?limit=50");
      R.clear(list).appendChild(
        R.table(
          [
            { label: "task.title", key: "title", value: (t) => t.title },
            { label: "common.campaign", value: (t) => campaignName(t.campaign_id) },
            { label: "task.audience_size", value: (t) => R.num(t.audience_size), num: true },
            { label: "task.deadline", value: (t) => R.time(t.deadline) },
            { label: "task.state", value: (t) => h("span", { class: "badge " + t.state, i18n: "state." + t.state }) },
            ...COUNTERS.map((c) => ({ label: "counter." + c, key: c, value: (t) => R.num((t.progress || {})[c] || 0), num: true })),
          ],
          data.items,
          { emptyKey: "task.none", onClick: (t) => showTask(t.task_id) }
        )
      );
      if (!detail.hasAttribute("data-task")) {
        if (data.items.length) showTask(data.items[0].task_id);
        else R.clear(detail).appendChild(R.empty("task.pick"));
      }
    };
    root.appendChild(h("div", { class: "grid" }, notificationSettingsCard(), chatBotsCard()));
    const stopList = R.poll(renderList, 5000);
    return () => {
      stopList();
      if (stopDetail) stopDetail();
    };
  }

  /** The teams' group chat bots: add one (its webhook URL, and a signing secret for DingTalk
   * and Feishu), see them (URLs masked), send a test message, remove one. */
  function chatBotsCard() {
    const PROVIDERS = ["wecom", "dingtalk", "feishu", "slack", "teams"];
    const list = h("div", { id: "bot-list" });
    const id = h("input", { type: "text", id: "bot-id", required: true, maxlength: "32", pattern: "[a-z0-9][a-z0-9-]*", placeholder: "sales-east" });
    const provider = R.select(PROVIDERS.map((p) => [p, "bot.provider." + p]), { id: "bot-provider" });
    const url = h("input", { type: "url", id: "bot-url", required: true, maxlength: "2048" });
    const secret = h("input", { type: "password", id: "bot-secret", maxlength: "200", autocomplete: "off" });
    const secretField = R.field("bot.secret", secret, "bot.secret_hint");
    const lang = R.select([["en", { text: "English" }], ["ja", { text: "日本語" }], ["zh-Hans", { text: "简体中文" }], ["zh-Hant", { text: "繁體中文" }]], { id: "bot-lang" });
    const events = h(
      "fieldset",
      { class: "checks", id: "bot-events" },
      h("legend", { i18n: "bot.events" }),
      h("span", { class: "muted", id: "bot-events-loading", i18n: "common.loading" })
    );
    // the events a bot may post come with the list (domain/chatbots.py BOT_EVENTS): a new
    // one needs no console change; the first is ticked for a new bot
    const drawEvents = (names) => {
      const ticked = new Set([...events.querySelectorAll("input:checked")].map((x) => x.value));
      const fresh = !events.querySelector("input");
      events.replaceChildren(
        h("legend", { i18n: "bot.events" }),
        ...names.map((e, i) =>
          h("label", { class: "check" }, h("input", { type: "checkbox", value: e, checked: fresh ? i === 0 : ticked.has(e) }), h("span", { text: R.has("bot.event." + e) ? R.t("bot.event." + e) : e }))
        )
      );
    };
    const syncSecret = () => (secretField.hidden = !["dingtalk", "feishu"].includes(provider.value));
    provider.addEventListener("change", syncSecret);
    syncSecret();
    const form = h(
      "form",
      { class: "form", id: "bot-form" },
      R.field("bot.id", id),
      R.field("bot.provider", provider),
      R.field("bot.url", url, "bot.url_hint"),
      secretField,
      R.field("bot.language", lang),
      events,
      h("button", { type: "submit", class: "btn", id: "bot-save", i18n: "bot.add" })
    );
    const render = async () => {
      const data = await R.api("GET", "/admin/chat-bots");
      drawEvents(data.events);
      R.clear(list).appendChild(
        R.table(
          [
            { label: "bot.id", key: "bot_id", value: (b) => b.bot_id },
            { label: "bot.provider", value: (b) => R.t("bot.provider." + b.provider) },
            { label: "bot.url", value: (b) => h("code", { text: b.url }) },
            { label: "bot.events", value: (b) => b.events.map((e) => R.t("bot.event." + e)).join(", ") },
            {
              label: "common.actions",
              value: (b) =>
                h(
                  "span",
                  null,
                  h("button", { type: "button", class: "btn small secondary", "data-test-bot": b.bot_id, i18n: "bot.test", "aria-label": R.t("bot.test") + " " + b.bot_id,
                    on: { click: async () => {
                      try {
                        const r = await R.api("POST", "/admin/chat-bots/" + encodeURIComponent(b.bot_id) + "/test");
                        R.toast(r.ok ? R.t("bot.test_ok") : R.t("bot.test_failed", { error: r.error || r.status_code }), r.ok ? "ok" : "error");
                      } catch (err) { fail(err); }
                    } } }),
                  " ",
                  h("button", { type: "button", class: "btn small ghost", "data-delete-bot": b.bot_id, i18n: "bot.delete", "aria-label": R.t("bot.delete") + " " + b.bot_id,
                    on: { click: async () => {
                      try {
                        await R.api("DELETE", "/admin/chat-bots/" + encodeURIComponent(b.bot_id));
                        await render();
                      } catch (err) { fail(err); }
                    } } })
                ),
            },
          ],
          data.items,
          { emptyKey: "bot.none" }
        )
      );
    };
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      for (const el of [id, url, secret]) el.removeAttribute("aria-invalid");
      const body = {
        provider: provider.value,
        url: url.value.trim(),
        language: lang.value,
        events: [...events.querySelectorAll("input:checked")].map((x) => x.value),
      };
      if (!secretField.hidden && secret.value) body.secret = secret.value;
      try {
        await R.api("PUT", "/admin/chat-bots/" + encodeURIComponent(id.value.trim()), body);
        R.toast(R.t("bot.saved"), "ok");
        url.value = "";
        secret.value = "";
        await render();
      } catch (err) {
        R.markRefused(err, { bot_id: id, url, secret, provider, events: events.querySelector("input") });
        fail(err);
      }
    });
    render().catch(fail);
    return R.card("bot.title", list, form);
  }

  /** The tenant's notification channel: e-mail on or off, the sender's name, and how long
   * before a deadline the reminder goes to those who have not shared. */
  function notificationSettingsCard() {
    const email = h("input", { type: "checkbox", id: "notify-email" });
    const fromName = h("input", { type: "text", id: "notify-from-name", maxlength: "64" });
    const dueHours = h("input", { type: "number", id: "notify-due-hours", min: "1", max: "336", step: "1", required: true });
    const note = h("p", { class: "muted", id: "notify-not-configured", i18n: "notify.admin.not_configured", hidden: true });
    const save = h("button", { type: "submit", class: "btn", id: "notify-settings-save", i18n: "common.save", disabled: true });
    const form = h(
      "form",
      { class: "form", id: "notify-settings-form" },
      note,
      h("label", { class: "check" }, email, h("span", { i18n: "notify.admin.email" })),
      R.field("notify.admin.from_name", fromName),
      R.field("notify.admin.due_hours", dueHours),
      save
    );
    const show = (s) => {
      email.checked = !!s.email;
      fromName.value = s.from_name || "";
      dueHours.value = String(s.due_hours);
      note.hidden = !!s.email_configured;
      save.disabled = false;
    };
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      for (const el of [fromName, dueHours]) el.removeAttribute("aria-invalid");
      try {
        show(await R.api("PUT", "/admin/notifications", { email: email.checked, from_name: fromName.value, due_hours: Number(dueHours.value) }));
        R.toast(R.t("notify.admin.saved"), "ok");
      } catch (err) {
        R.markRefused(err, { from_name: fromName, due_hours: dueHours });
        fail(err);
      }
    });
    R.api("GET", "/admin/notifications").then(show, fail);
    return R.card("notify.admin", form);
  }

  // ------------------------------------------------------------------ customers and the pool

  function customerTable(rows, masked, onClick) {
    return R.table(
      [
        { label: "customer.name", key: "name", value: (c) => c.name },
        { label: "customer.contact", value: (c) => [c.phone, c.email].filter(Boolean).join(" · ") },
        { label: "customer.status", key: "status", value: (c) => h("span", { class: "badge", i18n: "status." + c.status }) },
        masked ? null : { label: "customer.owner", value: (c) => (c.owner ? names()[c.owner] || c.owner : R.t("customer.pool")) },
        { label: "common.campaign", value: (c) => campaignName(c.source.campaign_id) },
        { label: "customer.channel", value: (c) => (c.source.channel ? R.t("channel." + c.source.channel) : "–") },
        { label: "common.created", value: (c) => R.time(c.created_at) },
      ].filter(Boolean),
      rows,
      { emptyKey: "customer.none", onClick: onClick || null }
    );
  }

  /** A list paged by the API's cursor; request() gives {path, params}; "more" loads the next
   * page. render(rows, answer) also sees the whole answer (fields some lists add beside the page). */
  function pagedList(root, titleKey, request, render, controls) {
    const out = h("div");
    const more = h("button", { type: "button", class: "btn secondary", i18n: "common.more", hidden: true });
    root.appendChild(R.card(titleKey, controls || null, out, more));
    let rows = [];
    let cursor = null;
    let latest = 0; // a slow answer to an older request (a search typed on) must not win
    const load = async (append) => {
      const mine = ++latest;
      const { path, params } = request();
      const q = new URLSearchParams(params);
      if (append && cursor) q.set("cursor", cursor);
      const data = await R.api("GET", path + "?" + q);
      if (mine !== latest) return;
      const page = data.items;
      rows = append ? rows.concat(page) : page;
      cursor = data.next_cursor || null;
      more.hidden = !cursor;
      R.clear(out).appendChild(render(rows, data));
    };
    more.addEventListener("click", () => load(true).catch(fail));
    return load;
  }

  function customersView(root) {
    const search = h("input", { type: "search", id: "customer-q", maxlength: "100", autocomplete: "off", placeholder: R.t("customer.search_hint") });
    const status = R.select([["", "common.any"], ...R.STATUSES.map((s) => [s, "status." + s])], { id: "customer-status" });
    const tag = h("input", { type: "search", id: "customer-tag", maxlength: "32", autocomplete: "off" });
    // The detail panel (a row's click opens it): fields, notes, history; note, status, conversion.
    const detail = h("div", { id: "customer-detail", class: "customer-detail" });
    const close = h("button", { type: "button", class: "btn ghost small cd-close", id: "customer-detail-close", i18n: "customer.close" });
    const panel = h("section", { class: "card", id: "customer-panel", hidden: true }, h("div", { class: "task-head" }, h("h2", { i18n: "customer.detail" }), close), detail);
    root.appendChild(panel);
    close.addEventListener("click", () => {
      panel.hidden = true;
      detail.removeAttribute("data-customer");
      R.clear(detail);
    });
    const show = async (c) => {
      panel.hidden = false;
      try {
        await R.customerDetail(detail, c.customer_id, { admin: true, names: names(), campaignName, onChange: () => load(false).catch(fail) });
        panel.scrollIntoView({ block: "start" });
      } catch (err) {
        fail(err);
      }
    };
    const load = pagedList(
      root,
      "nav.customers",
      () => {
        const params = { limit: "25" };
        if (status.value) params.status = status.value;
        if (search.value.trim()) params.q = search.value.trim();
        if (tag.value.trim()) params.tag = tag.value.trim();
        return { path: "/customers", params };
      },
      (rows) => customerTable(rows, false, show),
      h("div", { class: "controls" }, R.field("customer.search", search), R.field("customer.tag_filter", tag), R.field("customer.status", status))
    );
    status.addEventListener("change", () => load(false).catch(fail));
    let typing = null; // search as the admin types, once they pause
    for (const input of [search, tag]) {
      input.addEventListener("input", () => {
        clearTimeout(typing);
        typing = setTimeout(() => load(false).catch(fail), 300);
      });
    }
    load(false).catch(fail);
  }

  function poolView(root) {
    const load = pagedList(root, "nav.pool", () => ({ path: "/lead-pool", params: { limit: "25" } }), (rows) => customerTable(rows, true));
    load(false).catch(fail);
  }

  // ------------------------------------------------------------------ rewards and redemptions

  function rewardsView(root) {
    const list = h("div", { id: "reward-list" });
    const name = h("input", { type: "text", id: "reward-name", required: true, maxlength: "200" });
    const price = h("input", { type: "number", id: "reward-price", min: "1", required: true, value: "100" });
    const stock = h("input", { type: "number", id: "reward-stock", min: "0" });
    const kind = R.select(["physical", "virtual_code", "perk", "lead_claim"].map((k) => [k, "reward.kind." + k]), { id: "reward-kind" });
    const form = h(
      "form",
      { class: "form", id: "reward-form" },
      R.field("reward.name", name),
      h("div", { class: "row" }, R.field("reward.price", price), R.field("reward.stock", stock, "reward.stock_hint"), R.field("reward.kind", kind)),
      h("button", { type: "submit", class: "btn", i18n: "reward.create" })
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = { name: name.value.trim(), price: Number(price.value), kind: kind.value, stock: stock.value === "" ? null : Number(stock.value) };
      try {
        await R.api("POST", "/admin/rewards", body);
        R.toast(R.t("reward.created"), "ok");
        form.reset();
        await renderRewards();
      } catch (err) {
        fail(err);
      }
    });
    root.appendChild(h("div", { class: "grid" }, R.card("reward.new", form), R.card("nav.rewards", list)));
    const renderRewards = async () => {
      const data = await R.api("GET", "/rewards?include_inactive=true");
      R.clear(list).appendChild(
        R.table(
          [
            { label: "reward.name", value: (r) => r.name },
            { label: "reward.price", value: (r) => R.num(r.price), num: true },
            { label: "reward.stock", value: (r) => (r.unlimited ? R.t("reward.unlimited") : R.num(r.stock)), num: true },
            { label: "reward.kind", value: (r) => R.t("reward.kind." + r.kind) },
            { label: "reward.active", value: (r) => R.t(r.active ? "common.yes" : "common.no") },
          ],
          data.items,
          { emptyKey: "reward.none" }
        )
      );
    };
    renderRewards().catch(fail);

    const status = R.select([["", "common.any"], ...["requested", "fulfilled", "cancelled"].map((s) => [s, "redemption." + s])], { id: "redemption-status" });
    const load = pagedList(
      root,
      "reward.redemptions",
      () => ({ path: "/admin/redemptions", params: Object.assign({ limit: "25" }, status.value ? { status: status.value } : {}) }),
      (rows) =>
        R.table(
          [
            { label: "reward.name", value: (r) => r.reward_name },
            { label: "common.employee", value: (r) => names()[r.employee_id] || r.employee_id },
            { label: "reward.price", value: (r) => R.num(r.price), num: true },
            { label: "customer.status", value: (r) => h("span", { class: "badge", i18n: "redemption." + r.status }) },
            { label: "common.created", value: (r) => R.time(r.created_at) },
            {
              label: "common.actions",
              value: (r) =>
                r.status === "requested"
                  ? h(
                      "span",
                      { class: "link-actions" },
                      h("button", { type: "button", class: "btn small", i18n: "redemption.fulfil", on: { click: () => act(r, "fulfil") } }),
                      h("button", { type: "button", class: "btn small secondary", i18n: "redemption.cancel", on: { click: () => act(r, "cancel") } })
                    )
                  : null,
            },
          ],
          rows,
          { emptyKey: "redemption.none" }
        ),
      h("div", { class: "controls" }, R.field("customer.status", status))
    );
    const act = async (r, what) => {
      try {
        const body = what === "cancel" ? { reason: R.t("redemption.cancel_reason") } : null;
        await R.api("POST", "/admin/redemptions/" + encodeURIComponent(r.redemption_id) + "/" + what, body);
        R.toast(R.t("redemption.done_" + what), "ok");
        await load(false);
      } catch (err) {
        fail(err);
      }
    };
    status.addEventListener("change", () => load(false).catch(fail));
    load(false).catch(fail);
  }

  // ------------------------------------------------------------------ settlements

  function settlementsView(root) {
    const now = R.today();
    const yesterday = new Date(now.getTime() - 86400000);
    const lastWeek = new Date(now.getTime() - 7 * 86400000);
    const lastMonth = new Date(now.getFullYear(), now.getMonth() - 1, 15);
    const period = R.select(
      [
        [R.day(yesterday), { text: R.day(yesterday) }],
        [R.isoWeek(lastWeek), { text: R.isoWeek(lastWeek) }],
        [R.day(lastMonth).slice(0, 7), { text: R.day(lastMonth).slice(0, 7) }],
      ],
      { id: "settlement-period" }
    );
    const out = h("div", { id: "settlement-out" });
    const go = h("button", { type: "button", class: "btn", i18n: "settlement.show" });
    root.appendChild(R.card("nav.settlements", h("div", { class: "controls" }, R.field("lb.period", period), go), out));
    root.appendChild(prizesCard());
    const load = async () => {
      R.clear(out);
      try {
        const data = await R.api("GET", "/settlements/" + encodeURIComponent(period.value) + "?limit=10");
        const sm = data.summary || {};
        out.appendChild(
          h(
            "div",
            { class: "stats" },
            R.stat("settlement.boards", sm.boards || 0),
            R.stat("settlement.winners", sm.winners || 0),
            R.stat("settlement.points", sm.points_awarded || 0),
            R.stat("settlement.late", sm.late_events || 0)
          )
        );
        out.appendChild(h("h4", { i18n: "settlement.winners" }));
        out.appendChild(
          R.table(
            [
              { label: "lb.member", value: (w) => (w.dimension === "employee" && names()[w.id]) || w.id },
              { label: "lb.dimension", value: (w) => R.t("dim." + w.dimension) },
              { label: "lb.rank", value: (w) => w.rank, num: true },
              { label: "lb.score", value: (w) => R.num(w.score), num: true },
              { label: "settlement.points", value: (w) => R.num(w.awarded), num: true },
            ],
            data.winners || []
          )
        );
      } catch (err) {
        if (err.status === 404) out.appendChild(R.empty("settlement.not_settled"));
        else fail(err);
      }
    };
    go.addEventListener("click", () => load());
  }

  // ------------------------------------------------------------------ employees

  /** POST a CSV file as it is (bytes, not JSON): the server detects the encoding. */
  async function postCsv(file, dryRun) {
    const headers = { Accept: "application/json", "Content-Type": "text/csv" };
    const token = R.token();
    if (token) headers.Authorization = "Bearer " + token;
    const resp = await fetch(R.base + "/admin/employees/import" + (dryRun ? "?dry_run=true" : ""), {
      method: "POST",
      headers,
      body: file,
      credentials: "same-origin",
      cache: "no-store",
    });
    const data = await resp.json().catch(() => null);
    if (!resp.ok) throw new R.ApiError(resp.status, data);
    return data;
  }

  function importCard(onDone) {
    const file = h("input", { type: "file", id: "import-file", accept: ".csv,text/csv" });
    const check = h("button", { type: "button", class: "btn ghost", id: "import-check", i18n: "imp.check" });
    const run = h("button", { type: "button", class: "btn", id: "import-run", i18n: "imp.run", disabled: true });
    const report = h("div", { id: "import-report" });
    const progress = h("div", { id: "import-progress" });
    const counts = (r) =>
      h(
        "dl",
        { class: "cd-fields" },
        [
          ["imp.rows", r.rows],
          ["imp.valid", r.valid],
          ["imp.create", r.planned.create],
          ["imp.update", r.planned.update],
          ["imp.unchanged", r.planned.unchanged],
          ["imp.encoding", r.encoding],
        ].map(([k, v]) => h("div", { class: "cd-field", "data-field": k }, h("dt", { i18n: k }), h("dd", { text: String(v) })))
      );
    const errorsTable = (errors) =>
      R.table(
        [
          { label: "imp.line", value: (e) => String(e.line), num: true },
          { label: "imp.field", value: (e) => e.field || "–" },
          { label: "imp.code", value: (e) => h("code", { text: e.code }) },
          { label: "imp.message", value: (e) => e.message },
        ],
        errors,
        { emptyKey: "imp.no_errors" }
      );
    const showReport = (r) => {
      R.clear(report).appendChild(counts(r));
      report.appendChild(h("h3", { i18n: "imp.errors" }));
      report.appendChild(errorsTable(r.errors || []));
      R.applyI18n(report);
    };
    const showFileError = (err) => {
      const d = (err.body && err.body.error && err.body.error.details) || {};
      R.clear(report).appendChild(h("p", { class: "error", id: "import-file-error", text: R.errorText(err) }));
      if (d.errors) report.appendChild(errorsTable(d.errors));
      if (d.rows !== undefined) showReport(d);
      R.applyI18n(report);
    };
    file.addEventListener("change", () => {
      run.disabled = true;
      R.clear(report);
      R.clear(progress);
    });
    check.addEventListener("click", async () => {
      if (!file.files.length) return;
      run.disabled = true;
      try {
        const r = await postCsv(file.files[0], true);
        showReport(r);
        run.disabled = r.error_count > 0;
      } catch (err) {
        showFileError(err);
      }
    });
    run.addEventListener("click", async () => {
      if (!file.files.length) return;
      run.disabled = true;
      try {
        let job = await postCsv(file.files[0], false);
        const bar = h("progress", { id: "import-bar", max: String(job.total || 1), value: String(job.processed) });
        const label = h("p", { id: "import-status" });
        R.clear(progress).append(bar, label);
        for (;;) {
          bar.value = job.processed;
          label.textContent = R.t("imp.progress", { processed: R.num(job.processed), total: R.num(job.total) }) + " · " + R.t("imp.status." + job.status);
          label.setAttribute("data-status", job.status);
          if (job.status === "done" || job.status === "failed") break;
          await new Promise((ok) => setTimeout(ok, 1000));
          job = await R.api("GET", "/admin/employees/imports/" + encodeURIComponent(job.import_id));
        }
        label.textContent += " — " + R.t("imp.summary", { created: R.num(job.created), updated: R.num(job.updated), unchanged: R.num(job.unchanged), failed: R.num(job.failed) });
        R.toast(R.t("imp.finished"), job.failed ? "error" : "ok");
        if (onDone) await onDone();
      } catch (err) {
        showFileError(err);
      }
    });
    return R.card(
      "imp.title",
      h("p", { class: "hint", i18n: "imp.hint" }),
      h("div", { class: "row" }, R.field("imp.file", file), h("div", { class: "field" }, check, run)),
      report,
      progress
    );
  }

  /** An invited employee's invitation: e-mail it again, revoke it, or show a fresh one as a
   * QR code to scan with their phone (shown once: the API keeps no copy). */
  function invitationBox(e, onChange) {
    const path = "/admin/employees/" + encodeURIComponent(e.employee_id) + "/invitation";
    const shown = h("div", { id: "ed-invitation-shown" });
    const act = (method, suffix, done) => async (ev) => {
      ev.target.disabled = true;
      try {
        done(await R.api(method, path + suffix));
      } catch (err) {
        R.toast(R.errorText(err), "error");
        if (err instanceof R.ApiError && err.status === 409) await onChange(e.employee_id);
      } finally {
        ev.target.disabled = false;
      }
    };
    const showQr = (r) => {
      const expires = new Date(r.expires_at).toLocaleString(R.lang);
      R.clear(shown).append(
        h("img", { src: r.qr, id: "ed-invitation-qr", class: "invite-qr", width: "240", height: "240", alt: R.t("emp.invite_qr") }),
        h("p", { class: "muted", text: R.t("emp.invite_qr_hint", { expires }) }),
        R.field("emp.invite_link", h("input", { type: "text", id: "ed-invitation-url", readonly: true, value: r.url }))
      );
    };
    return h(
      "div",
      { class: "row", id: "ed-invitation" },
      h("button", { type: "button", class: "btn small", id: "ed-invite-resend", i18n: "emp.invite_resend", on: { click: act("POST", "", () => R.toast(R.t("emp.invite_sent"), "ok")) } }),
      h("button", { type: "button", class: "btn small", id: "ed-invite-qr", i18n: "emp.invite_qr", on: { click: act("POST", "/link", showQr) } }),
      h("button", { type: "button", class: "btn ghost small", id: "ed-invite-revoke", i18n: "emp.invite_revoke", on: { click: act("DELETE", "", () => { R.clear(shown); R.toast(R.t("emp.invite_revoked"), "ok"); }) } }),
      shown
    );
  }

  function employeeDetail(box, e, onChange) {
    R.clear(box).setAttribute("data-employee", e.employee_id);
    const name = h("input", { type: "text", id: "ed-name", value: e.name, required: true, maxlength: "100" });
    const email = h("input", { type: "email", id: "ed-email", value: e.email || "", maxlength: "254" });
    const team = h("input", { type: "text", id: "ed-team", value: e.team, required: true, maxlength: "64" });
    const region = h("input", { type: "text", id: "ed-region", value: e.region, required: true, maxlength: "64" });
    const role = R.select([["employee", "role.employee"], ["admin", "role.admin"]], { id: "ed-role" });
    role.value = e.role || "employee";
    const edit = h(
      "form",
      { class: "form", id: "employee-edit" },
      h("div", { class: "row" }, R.field("employee.name", name), R.field("emp.email", email)),
      h("div", { class: "row" }, R.field("employee.team", team), R.field("employee.region", region), R.field("emp.role", role)),
      h("button", { type: "submit", class: "btn", i18n: "employee.save" })
    );
    edit.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { name: name.value.trim(), team: team.value.trim(), region: region.value.trim(), role: role.value };
      if (email.value.trim()) body.email = email.value.trim();
      try {
        await R.api("PUT", "/admin/employees/" + encodeURIComponent(e.employee_id), body);
        R.toast(R.t("employee.saved"), "ok");
        await onChange(e.employee_id);
      } catch (err) {
        fail(err);
      }
    });
    const to = R.select(
      [["pool", "emp.pool"]].concat(employees.filter((x) => x.active && x.employee_id !== e.employee_id).map((x) => [x.employee_id, { text: x.name + " (" + x.employee_id + ")" }])),
      { id: "ed-offboard-to" }
    );
    const reassign = h("input", { type: "checkbox", id: "ed-reassign" });
    const off = h(
      "form",
      { class: "form", id: "employee-offboard" },
      h("div", { class: "row" }, R.field("emp.offboard_to", to), h("label", { class: "check" }, reassign, h("span", { i18n: "emp.reassign_links" }))),
      h("button", { type: "submit", class: "btn danger", i18n: "emp.offboard" })
    );
    off.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        const body = { to: to.value };
        if (reassign.checked && to.value !== "pool") body.reassign_links = true;
        const r = await R.api("POST", "/admin/employees/" + encodeURIComponent(e.employee_id) + "/offboard", body);
        R.toast(R.t("emp.offboarded", { n: R.num(r.customers_moved) }), "ok");
        await onChange(e.employee_id);
      } catch (err) {
        fail(err);
      }
    });
    const links = h("div", { id: "ed-links" });
    const ledger = h("div", { id: "ed-ledger" });
    const customers = h("div", { id: "ed-customers" });
    box.append(
      h("h3", { text: e.name + " · " + e.employee_id }),
      h("p", { id: "ed-status", "data-active": String(e.active), "data-status": e.status, i18n: "emp.status_" + e.status }),
      e.status === "invited" ? invitationBox(e, onChange) : null,
      edit,
      e.active ? h("div", null, h("h3", { i18n: "emp.offboard" }), off) : null,
      h("h3", { i18n: "emp.links" }),
      links,
      h("h3", { i18n: "emp.ledger" }),
      ledger,
      h("h3", { i18n: "emp.customers" }),
      customers
    );
    R.applyI18n(box);
    const id = encodeURIComponent(e.employee_id);
    R.api("GET", "/admin/employees/" + id + "/links")
      .then((d) =>
        R.clear(links).appendChild(
          R.table(
            [
              { label: "common.campaign", value: (l) => campaignName(l.campaign_id) },
              { label: "emp.channel", value: (l) => l.channel },
              { label: "emp.link", value: (l) => h("code", { text: l.short_url }) },
            ],
            d.items,
            { emptyKey: "emp.no_links" }
          )
        )
      )
      .then(() => R.applyI18n(links))
      .catch(fail);
    R.api("GET", "/admin/employees/" + id + "/ledger?limit=20")
      .then((d) =>
        R.clear(ledger).appendChild(
          R.table(
            [
              { label: "common.at", value: (x) => R.time(x.at) },
              { label: "points.kind", value: (x) => (R.has("kind." + x.kind) ? R.t("kind." + x.kind) : x.kind) },
              { label: "points.points", value: (x) => R.num(x.points), num: true },
            ],
            d.items,
            { emptyKey: "points.none" }
          )
        )
      )
      .then(() => R.applyI18n(ledger))
      .catch(fail);
    R.api("GET", "/customers?owner=" + id + "&limit=20")
      .then((d) =>
        R.clear(customers).appendChild(
          R.table(
            [
              { label: "employee.name", value: (c) => c.name || "–" },
              { label: "emp.customer_status", value: (c) => (R.has("status." + c.status) ? R.t("status." + c.status) : c.status) },
            ],
            d.items,
            { emptyKey: "emp.no_customers" }
          )
        )
      )
      .then(() => R.applyI18n(customers))
      .catch(fail);
  }

  function employeesView(root) {
    const list = h("div", { id: "employee-list" });
    const id = h("input", { type: "text", id: "employee-id", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9._-]{0,63}" });
    const name = h("input", { type: "text", id: "employee-name", required: true, maxlength: "100" });
    const team = h("input", { type: "text", id: "employee-team", maxlength: "100" });
    const region = h("input", { type: "text", id: "employee-region", maxlength: "100" });
    const form = h(
      "form",
      { class: "form", id: "employee-form" },
      h("div", { class: "row" }, R.field("employee.id", id), R.field("employee.name", name)),
      h("div", { class: "row" }, R.field("employee.team", team), R.field("employee.region", region)),
      h("button", { type: "submit", class: "btn", i18n: "employee.save" })
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await R.api("PUT", "/admin/employees/" + encodeURIComponent(id.value.trim()), {
          name: name.value.trim(),
          team: team.value.trim(),
          region: region.value.trim(),
        });
        R.toast(R.t("employee.saved"), "ok");
        form.reset();
        await render();
      } catch (err) {
        fail(err);
      }
    });
    // search and filters (client-side over the tenant's list)
    const search = h("input", { type: "search", id: "employee-search", "data-i18n-placeholder": "emp.search" });
    search.placeholder = R.t("emp.search");
    const teamFilter = h("select", { id: "employee-team-filter" });
    const regionFilter = h("select", { id: "employee-region-filter" });
    const statusFilter = R.select(
      [
        ["", "emp.status_all"],
        ["active", "emp.status_active"],
        ["invited", "emp.status_invited"],
        ["no_sign_in", "emp.status_no_sign_in"],
        ["offboarded", "emp.status_offboarded"],
      ],
      { id: "employee-status-filter" }
    );
    const tools = h("div", { class: "row", id: "employee-filters" }, R.field("emp.search", search), R.field("employee.team", teamFilter), R.field("employee.region", regionFilter), R.field("emp.status", statusFilter));
    const detail = h("div", { id: "employee-detail" });
    const close = h("button", { type: "button", class: "btn ghost small cd-close", id: "employee-detail-close", i18n: "customer.close" });
    const panel = h("section", { class: "card", id: "employee-panel", hidden: true }, h("div", { class: "task-head" }, h("h2", { i18n: "emp.detail" }), close), detail);
    close.addEventListener("click", () => {
      panel.hidden = true;
      R.clear(detail);
    });
    const options = (select, values, allKey) => {
      const keep = select.value;
      R.clear(select).append(h("option", { value: "", text: R.t(allKey) }), ...values.map((v) => h("option", { value: v, text: v })));
      select.value = values.includes(keep) ? keep : "";
    };
    const open = (e) => {
      panel.hidden = false;
      employeeDetail(detail, e, async (changed) => {
        await render();
        const fresh = employees.find((x) => x.employee_id === changed);
        if (fresh) open(fresh);
      });
      panel.scrollIntoView({ block: "start" });
    };
    const draw = () => {
      const q = search.value.trim().toLowerCase();
      const rows = employees.filter(
        (e) =>
          (!q || [e.employee_id, e.name, e.email || ""].some((v) => v.toLowerCase().includes(q))) &&
          (!teamFilter.value || e.team === teamFilter.value) &&
          (!regionFilter.value || e.region === regionFilter.value) &&
          (!statusFilter.value || statusFilter.value === e.status)
      );
      R.clear(list).appendChild(
        R.table(
          [
            { label: "employee.id", value: (e) => h("code", { text: e.employee_id }) },
            { label: "employee.name", value: (e) => e.name },
            { label: "emp.email", value: (e) => e.email || "–" },
            { label: "employee.team", value: (e) => e.team },
            { label: "employee.region", value: (e) => e.region },
            { label: "emp.role", value: (e) => R.t("role." + (e.role || "employee")) },
            { label: "emp.status", value: (e) => h("span", { "data-status": e.status, text: R.t("emp.status_" + e.status) }) },
          ],
          rows,
          { emptyKey: employees.length ? "emp.none_match" : "employee.none", onClick: open }
        )
      );
      R.applyI18n(list);
    };
    for (const el of [search, teamFilter, regionFilter, statusFilter]) el.addEventListener("input", draw);
    const render = async () => {
      await loadEmployees();
      const uniq = (k) => [...new Set(employees.map((e) => e[k]))].sort();
      options(teamFilter, uniq("team"), "emp.all_teams");
      options(regionFilter, uniq("region"), "emp.all_regions");
      draw();
    };
    root.appendChild(panel);
    root.appendChild(h("div", { class: "grid" }, R.card("employee.new", form), importCard(() => render())));
    root.appendChild(R.card("nav.employees", tools, list));
    render().catch(fail);
  }

  // ------------------------------------------------------------------ fraud review and reversals

  const SIGNAL_KINDS = ["burst", "velocity", "employee_click"];
  const who = (id) => (id ? names()[id] || id : "–");

  /** The one way a review decision is taken: with a reason (the ledger keeps it, with who
   * decided). ``onSubmit(reason)`` posts the decision; the box closes when it succeeds. */
  function decisionBox(box, what, actionKey, onSubmit) {
    R.clear(box);
    box.hidden = false;
    const reason = h("input", { type: "text", id: "review-reason", required: true, maxlength: "500", autocomplete: "off" });
    const go = h("button", { type: "submit", class: "btn", id: "review-confirm", i18n: actionKey });
    const cancel = h("button", { type: "button", class: "btn ghost", id: "review-cancel", i18n: "common.cancel" });
    const close = () => {
      box.hidden = true;
      R.clear(box);
    };
    const form = h("form", { class: "form decision", id: "review-form" }, h("p", { id: "review-what", text: what }), R.field("review.reason", reason, "review.reason_hint"), h("div", { class: "row" }, go, cancel));
    cancel.addEventListener("click", close);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      reason.removeAttribute("aria-invalid");
      go.disabled = true;
      try {
        await onSubmit(reason.value.trim());
        close();
      } catch (err) {
        R.markRefused(err, { reason });
        fail(err);
      } finally {
        go.disabled = false;
      }
    });
    box.appendChild(form);
    reason.focus();
  }

  /** Employees' stories: the review queue (oldest first; approve, reject with a reason the
   * author sees, or fix a word first) and the content policy the stories are checked by. */
  function storiesView(root) {
    const status = R.select(["pending", "approved", "rejected", "withdrawn"].map((v) => [v, "story.status." + v]), { id: "stories-status" });
    const queue = h("div", { id: "stories-queue" });
    const decide = h("div", { id: "stories-decide", hidden: true });
    root.appendChild(R.card("story.queue", h("p", { class: "muted", i18n: "story.queue_hint" }), R.field("story.state", status), decide, queue));
    const words = h("textarea", { id: "policy-words", rows: "4" });
    const disclosure = h("input", { id: "policy-disclosure", maxlength: "40", autocomplete: "off" });
    const points = h("input", { id: "policy-points", type: "number", min: "0", max: "100000", step: "1" });
    const cap = h("input", { id: "policy-cap", type: "number", min: "0", max: "100", step: "1" });
    const savePolicy = h("button", { type: "submit", class: "btn", id: "policy-save", i18n: "common.save" });
    const policyForm = h(
      "form",
      { class: "form", id: "policy-form" },
      R.field("story.banned_words", words, "story.banned_words_hint"),
      R.field("story.disclosure", disclosure, "story.disclosure_hint"),
      h("div", { class: "row" }, R.field("story.approved_points", points), R.field("story.monthly_cap", cap, "story.monthly_cap_hint")),
      savePolicy
    );
    root.appendChild(R.card("story.policy", policyForm));
    const showPolicy = (p) => {
      words.value = p.banned_words.join("\n");
      disclosure.value = p.disclosure;
      points.value = String(p.approved_points);
      cap.value = String(p.monthly_cap);
    };
    policyForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = {
        banned_words: words.value.split("\n").map((w) => w.trim()).filter(Boolean),
        disclosure: disclosure.value,
        approved_points: Number(points.value || 0),
        monthly_cap: Number(cap.value || 0),
      };
      try {
        showPolicy(await R.api("PUT", "/admin/content-policy", body));
        R.toast(R.t("common.saved"), "ok");
        await load();
      } catch (err) {
        const field = ((err && err.body && err.body.error && err.body.error.details) || {}).field || "";
        R.markRefused(err, { banned_words: words, disclosure, approved_points: points, monthly_cap: cap, [field]: field.startsWith("banned_words") ? words : null });
        fail(err);
      }
    });
    const editBox = (st) => {
      R.clear(decide);
      decide.hidden = false;
      const t = h("input", { id: "story-edit-title", maxlength: "80", value: st.title });
      const x = h("textarea", { id: "story-edit-text", rows: "6" });
      x.value = st.text;
      const go = h("button", { type: "submit", class: "btn", id: "story-edit-save", i18n: "common.save" });
      const cancel = h("button", { type: "button", class: "btn ghost", i18n: "common.cancel", on: { click: () => { decide.hidden = true; R.clear(decide); } } });
      const form = h("form", { class: "form decision" }, R.field("story.title", t), R.field("story.text", x), h("div", { class: "row" }, go, cancel));
      form.addEventListener("submit", async (e) => {
        e.preventDefault();
        try {
          await R.api("PATCH", "/admin/stories/" + st.story_id, { title: t.value, text: x.value });
          decide.hidden = true;
          R.clear(decide);
          await load();
        } catch (err) {
          R.markRefused(err, { title: t, text: x });
          fail(err);
        }
      });
      decide.appendChild(form);
      t.focus();
    };
    const story = (st) => {
      const found = st.findings || [];
      const item = h(
        "article",
        { class: "story-review", "data-story": st.story_id },
        h("div", { class: "task-head" }, h("strong", { text: st.title }), h("span", { class: "badge " + st.status, i18n: "story.status." + st.status })),
        h("p", { class: "muted", text: R.t("story.by", { name: st.author_name || who(st.author) }) + " · " + R.time(st.submitted_at || st.created_at) + (st.campaign_id ? " · " + campaignName(st.campaign_id) : "") + (st.paid ? " · " + R.t("story.paid_badge") : "") }),
        h("p", { class: "story-text", text: st.text }),
        st.images.length ? h("div", { class: "thumbs" }, st.images.map((url, i) => h("img", { src: url, alt: R.t("story.image_n", { n: i + 1 }), loading: "lazy" }))) : null,
        found.length ? h("ul", { class: "findings" }, found.map((f) => h("li", { class: "finding", "data-rule": f.rule, text: R.has("story.rule." + f.rule.replace(/-/g, "_")) ? R.t("story.rule." + f.rule.replace(/-/g, "_"), { match: f.match, field: R.t("story." + f.field) }) : f.message }))) : null,
        st.reason ? h("p", { class: "muted", text: R.t("story.reason_was", { reason: st.reason }) }) : null,
        st.edited_by_reviewer ? h("p", { class: "muted", i18n: "story.edited" }) : null
      );
      if (st.status === "pending") {
        item.appendChild(
          h(
            "div",
            { class: "row" },
            h("button", { type: "button", class: "btn small", "data-approve": st.story_id, text: R.t("story.approve"), disabled: found.length > 0,
              on: { click: async () => { try { await R.api("POST", "/admin/stories/" + st.story_id + "/approve", {}); R.toast(R.t("story.approved_ok"), "ok"); await load(); } catch (err) { fail(err); } } } }),
            h("button", { type: "button", class: "btn small secondary", "data-reject": st.story_id, text: R.t("story.reject"),
              on: { click: () => decisionBox(decide, R.t("story.reject_what", { title: st.title }), "story.reject", async (reason) => { await R.api("POST", "/admin/stories/" + st.story_id + "/reject", { reason }); await load(); }) } }),
            h("button", { type: "button", class: "btn small ghost", "data-edit": st.story_id, text: R.t("story.edit"), on: { click: () => editBox(st) } })
          )
        );
      } else if (st.status === "approved" && st.page_url) {
        item.appendChild(h("p", null, h("a", { href: st.page_url, target: "_blank", rel: "noopener", text: R.t("story.open_page") }), st.points ? " · " + R.t("story.points", { n: R.num(st.points) }) : ""));
      }
      return item;
    };
    const load = async () => {
      const data = await R.api("GET", "/admin/stories?status=" + encodeURIComponent(status.value) + "&limit=50");
      R.clear(queue);
      if (!data.items.length) return queue.appendChild(R.empty("story.queue_empty"));
      for (const st of data.items) queue.appendChild(story(st));
    };
    status.addEventListener("change", () => load().catch(fail));
    R.api("GET", "/admin/content-policy").then(showPolicy, fail);
    load().catch(fail);
  }

  /** Fraud review: the signals that withheld points (with their reasons) and the click rings
   * they reveal; a withheld outcome found to be genuine is released (paid) with a reason.
   * Below, one employee's ledger: points still held can be reversed with a reason. */
  function reviewView(root, arg) {
    const days = R.select(["1", "7", "30", "90"].map((d) => [d, { text: R.t("review.last_days", { n: d }) }]), { id: "review-days" });
    days.value = "7";
    const kind = R.select([["", "common.any"], ...SIGNAL_KINDS.map((k) => [k, "fraud.kind." + k])], { id: "review-kind" });
    const signals = h("div", { id: "review-signals" });
    const rings = h("div", { id: "review-rings" });
    const decideSignal = h("div", { id: "review-decide-signal", hidden: true });
    root.appendChild(R.card("review.signals", h("p", { class: "muted", i18n: "review.signals_hint" }), h("div", { class: "controls" }, R.field("review.days", days), R.field("review.kind", kind)), decideSignal, signals));
    root.appendChild(R.card("review.rings", h("p", { class: "muted", i18n: "review.rings_hint" }), rings));

    const person = R.select([["", "review.pick_employee"], ...employees.map((e) => [e.employee_id, { text: e.name || e.employee_id }])], { id: "review-employee" });
    const balances = h("div", { class: "stats", id: "review-balances" });
    const ledger = h("div", { id: "review-ledger" });
    const decideEntry = h("div", { id: "review-decide-entry", hidden: true });
    root.appendChild(R.card("review.ledger", h("p", { class: "muted", i18n: "review.ledger_hint" }), R.field("review.employee", person), balances, decideEntry, ledger));

    const signalAction = (s) => {
      if (s.released) return h("span", { class: "badge", "data-released": s.source_key, i18n: "review.released" });
      if (!s.source_key || !(s.withheld_points > 0)) return "–";
      return h("button", {
        type: "button",
        class: "btn small secondary",
        "data-release": s.source_key,
        text: R.t("review.release"),
        "aria-label": R.t("review.release_what", { points: R.num(s.withheld_points), name: who(s.employee_id) }),
        on: {
          click: () =>
            decisionBox(decideSignal, R.t("review.release_what", { points: R.num(s.withheld_points), name: who(s.employee_id) }), "review.release", async (reason) => {
              await R.api("POST", "/admin/points/releases", { source_key: s.source_key, reason });
              R.toast(R.t("review.released_ok"), "ok");
              await loadSignals();
              if (person.value === s.employee_id) await loadLedger();
            }),
        },
      });
    };
    const loadSignals = async () => {
      const q = new URLSearchParams({ days: days.value });
      if (kind.value) q.set("kind", kind.value);
      const data = await R.api("GET", "/admin/fraud?" + q);
      R.clear(signals).appendChild(
        R.table(
          [
            { label: "common.at", value: (s) => R.time(s.at) },
            { label: "review.kind", key: "kind", value: (s) => R.t("fraud.kind." + s.kind) },
            { label: "common.employee", key: "employee", value: (s) => who(s.employee_id) },
            { label: "common.campaign", value: (s) => (s.campaign_id ? campaignName(s.campaign_id) : "–") },
            { label: "review.detail", value: (s) => (s.kind === "employee_click" ? R.t("review.clicked_by", { name: who(s.clicker) }) : s.detail || "–") },
            { label: "review.withheld", num: true, value: (s) => (s.withheld_points ? R.num(s.withheld_points) : "–") },
            { label: "common.actions", key: "action", value: signalAction },
          ],
          data.signals,
          { emptyKey: "review.none" }
        )
      );
      R.clear(rings).appendChild(
        R.table(
          [
            { label: "review.pair", value: (r) => r.employees.map(who).join(" ⇄ ") },
            { label: "review.clicks", num: true, value: (r) => R.num(r.total) },
          ],
          data.rings,
          { emptyKey: "review.no_rings" }
        )
      );
    };

    let reversed = new Set(); // held entries a reversal on this page names (their own status stays "pending")
    const entryAction = (e) => {
      if (reversed.has(e.source_key)) return h("span", { class: "badge", text: R.t("review.reversed") });
      if (e.status !== "pending" || e.points <= 0) return "–";
      const what = R.t("review.reverse_what", { points: R.num(e.points), name: who(person.value) });
      return h("button", {
        type: "button",
        class: "btn small ghost",
        "data-reverse": e.source_key,
        text: R.t("review.reverse"),
        "aria-label": what,
        on: {
          click: () =>
            decisionBox(decideEntry, what, "review.reverse", async (reason) => {
              await R.api("POST", "/admin/points/reversals", { source_key: e.source_key, reason });
              R.toast(R.t("review.reversed_ok"), "ok");
              await loadLedger();
            }),
        },
      });
    };
    const reasonOf = (e) => (e.meta && (e.meta.withheld ? R.t("review.withheld_because", { reason: R.has("fraud.kind." + e.meta.withheld) ? R.t("fraud.kind." + e.meta.withheld) : e.meta.withheld }) : e.meta.reason)) || "–";
    const loadLedger = async () => {
      R.clear(balances);
      decideEntry.hidden = true;
      if (!person.value) {
        R.clear(ledger).appendChild(R.empty("review.pick_employee_hint"));
        return;
      }
      const data = await R.api("GET", "/admin/employees/" + encodeURIComponent(person.value) + "/ledger?limit=100");
      reversed = new Set(data.items.filter((e) => e.kind === "reversal" && e.meta && e.meta.reverses).map((e) => e.meta.reverses));
      balances.append(R.stat("points.balance", data.points.balance), R.stat("points.available", data.points.available), R.stat("points.pending", data.points.pending, "pending"));
      R.clear(ledger).appendChild(
        R.table(
          [
            { label: "common.at", value: (e) => R.time(e.at) },
            { label: "points.kind", value: (e) => (R.has("kind." + e.kind) ? R.t("kind." + e.kind) : e.kind) },
            { label: "common.campaign", value: (e) => (e.campaign_id ? campaignName(e.campaign_id) : "–") },
            { label: "points.points", num: true, value: (e) => R.num(e.points) },
            { label: "points.status", value: (e) => (R.has("entry." + e.status) ? R.t("entry." + e.status) : e.status) },
            { label: "review.release_at", value: (e) => (e.status === "pending" ? R.time(e.release_at) : "–") },
            { label: "review.reason", value: reasonOf },
            { label: "common.actions", key: "action", value: entryAction },
          ],
          data.items,
          { emptyKey: "points.none" }
        )
      );
    };
    days.addEventListener("change", () => loadSignals().catch(fail));
    kind.addEventListener("change", () => loadSignals().catch(fail));
    person.addEventListener("change", () => {
      // the employee is in the URL (#/review/<id>): a reload or a shared link opens the same ledger
      history.replaceState(null, "", "#/review" + (person.value ? "/" + encodeURIComponent(person.value) : ""));
      loadLedger().catch(fail);
    });
    if (arg && employees.some((e) => e.employee_id === arg)) person.value = arg;
    loadLedger().catch(fail);
    return R.poll(loadSignals, 15000);
  }

  // ------------------------------------------------------------------ settings

  /** The numbers and names the whole tenant runs by: time zone (periods, boards, settlements),
   * attribution, recycling to the pool, the pool's price, the phone region, ended campaigns'
   * fallback page, the anti-fraud limits and the audience segments. */
  function tenantSettingsCard() {
    const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
    const num = (id, min, max, required) => h("input", { type: "number", id, min: String(min), max: String(max), step: "1", required: !!required, inputmode: "numeric" });
    const name = h("input", { type: "text", id: "tenant-name", maxlength: "200", required: true });
    const tz = h("input", { type: "text", id: "tenant-timezone", maxlength: "64", required: true, list: "tenant-zones", autocomplete: "off", spellcheck: "false" });
    const zoneList = h("datalist", { id: "tenant-zones" }, zones.map((z) => h("option", { value: z })));
    const mode = R.select([["first_touch", "settings.first_touch"], ["last_touch", "settings.last_touch"]], { id: "tenant-attribution" });
    const attrDays = num("tenant-attribution-days", 1, 3650, true);
    const attrDaysField = R.field("settings.attribution_days", attrDays);
    const recycle = num("tenant-recycle", 1, 3650);
    const price = num("tenant-pool-price", 0, 1000000, true);
    const phone = h("input", { type: "text", id: "tenant-phone-region", maxlength: "2", pattern: "[A-Za-z]{2}", required: true, autocomplete: "off" });
    const ended = h("input", { type: "url", id: "tenant-ended-url", maxlength: "2048", placeholder: "https://" });
    const burst = num("tenant-burst", 2, 1000);
    const velocity = num("tenant-velocity", 1, 1000000);
    const seg = { window_days: num("tenant-seg-window", 1, 365, true), medium: num("tenant-seg-medium", 2, 99999, true), heavy: num("tenant-seg-heavy", 3, 100000, true), reach_days: num("tenant-seg-reach", 1, 730, true) };
    const save = h("button", { type: "submit", class: "btn", id: "tenant-save", i18n: "common.save", disabled: true });
    const syncMode = () => (attrDaysField.hidden = mode.value !== "first_touch");
    mode.addEventListener("change", syncMode);
    const form = h(
      "form",
      { class: "form", id: "tenant-form" },
      R.field("settings.name", name),
      R.field("settings.timezone", tz, "settings.timezone_hint"),
      zoneList,
      h("div", { class: "row" }, R.field("settings.attribution", mode), attrDaysField),
      R.field("settings.recycle", recycle, "settings.recycle_hint"),
      R.field("settings.pool_price", price, "settings.pool_price_hint"),
      R.field("settings.phone_region", phone, "settings.phone_region_hint"),
      R.field("settings.ended_url", ended, "settings.ended_url_hint"),
      h(
        "fieldset",
        { class: "group" },
        h("legend", { i18n: "settings.fraud" }),
        R.field("settings.burst", burst, "settings.burst_hint"),
        R.field("settings.velocity", velocity, "settings.velocity_hint")
      ),
      h(
        "fieldset",
        { class: "group" },
        h("legend", { i18n: "settings.segments" }),
        h("div", { class: "row" }, R.field("settings.seg_window", seg.window_days), R.field("settings.seg_reach", seg.reach_days)),
        h("div", { class: "row" }, R.field("settings.seg_medium", seg.medium), R.field("settings.seg_heavy", seg.heavy))
      ),
      save
    );
    const orNull = (input) => (input.value.trim() === "" ? null : Number(input.value));
    const show = (t) => {
      name.value = t.name || "";
      tz.value = t.timezone || "";
      mode.value = t.attribution.mode || "first_touch";
      attrDays.value = String(t.attribution.days || 30);
      recycle.value = t.recycle_after_days === null || t.recycle_after_days === undefined ? "" : String(t.recycle_after_days);
      price.value = String(t.pool_claim_price || 0);
      phone.value = t.phone_region || "";
      ended.value = t.ended_url || "";
      const fraud = t.fraud || {};
      burst.value = fraud.burst_links === null || fraud.burst_links === undefined ? "" : String(fraud.burst_links);
      velocity.value = fraud.velocity_per_hour === null || fraud.velocity_per_hour === undefined ? "" : String(fraud.velocity_per_hour);
      for (const [k, input] of Object.entries(seg)) input.value = String(t.segments[k]);
      syncMode();
      save.disabled = false;
      R.tz = t.timezone || R.tz;
    };
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
      const body = {
        name: name.value.trim(),
        timezone: tz.value.trim(),
        attribution: mode.value === "first_touch" ? { mode: "first_touch", days: Number(attrDays.value) } : { mode: "last_touch" },
        recycle_after_days: orNull(recycle),
        pool_claim_price: Number(price.value),
        phone_region: phone.value.trim(),
        ended_url: ended.value.trim() || null,
        fraud: { burst_links: orNull(burst), velocity_per_hour: orNull(velocity) },
        segments: Object.fromEntries(Object.entries(seg).map(([k, input]) => [k, Number(input.value)])),
      };
      try {
        show(await R.api("PUT", "/admin/tenant", body));
        R.toast(R.t("settings.saved"), "ok");
      } catch (err) {
        // the API names nested fields "<object>.<field>"
        const nested = Object.fromEntries([["attribution", "days", attrDays], ["fraud", "burst_links", burst], ["fraud", "velocity_per_hour", velocity]].map(([o, f, el]) => [o + "." + f, el]));
        R.markRefused(err, { name, timezone: tz, attribution: mode, recycle_after_days: recycle, pool_claim_price: price, phone_region: phone, ended_url: ended, segments: seg.medium, ...nested });
        fail(err);
      }
    });
    R.api("GET", "/admin/tenant").then(show, fail);
    return R.card("settings.tenant", form);
  }

  /** A delivery time from the log (epoch ms) in the tenant's zone. */
  const msTime = (ms) => (ms === null || ms === undefined ? "–" : R.time(new Date(ms).toISOString()));

  /** The tenant's webhook endpoint (URL, events, on/off, secret rotation: the new secret is
   * shown once), a test ping, and the delivery log, newest first, paged. */
  function webhookCard() {
    const url = h("input", { type: "url", id: "webhook-url", maxlength: "2048", required: true, placeholder: "https://" });
    const active = h("input", { type: "checkbox", id: "webhook-active", checked: true });
    const rotate = h("input", { type: "checkbox", id: "webhook-rotate" });
    const rotateLabel = h("label", { class: "check", hidden: true }, rotate, h("span", { i18n: "webhook.rotate" }));
    const events = h("fieldset", { class: "checks", id: "webhook-events" }, h("legend", { i18n: "webhook.events" }));
    // the event types come with the log's answer (domain/webhooks.py EVENT_TYPES)
    const drawEvents = (names) => {
      if (events.querySelector("input")) return;
      for (const e of names) events.appendChild(h("label", { class: "check" }, h("input", { type: "checkbox", value: e }), h("span", { text: R.has("webhook.event." + e) ? R.t("webhook.event." + e) : e })));
    };
    const status = h("p", { class: "muted", id: "webhook-status" });
    const secretBox = h("div", { id: "webhook-secret-box", hidden: true, role: "status" });
    const save = h("button", { type: "submit", class: "btn", id: "webhook-save", i18n: "common.save" });
    const test = h("button", { type: "button", class: "btn secondary", id: "webhook-test", i18n: "webhook.test", disabled: true });
    const form = h("form", { class: "form", id: "webhook-form" }, status, R.field("webhook.url", url, "webhook.url_hint"), events, h("label", { class: "check" }, active, h("span", { i18n: "webhook.active" })), rotateLabel, h("div", { class: "row" }, save, test), secretBox);
    let configured = false;
    const show = (w, fresh) => {
      configured = true;
      url.value = w.url;
      active.checked = !!w.active;
      rotate.checked = false;
      rotateLabel.hidden = false;
      test.disabled = false;
      for (const box of events.querySelectorAll("input")) box.checked = w.events.includes(box.value);
      status.textContent = R.t(w.active ? "webhook.status_on" : "webhook.status_off", { since: msTime(w.updated_at) });
      R.clear(secretBox);
      secretBox.hidden = !fresh;
      if (fresh) secretBox.append(h("p", { i18n: "webhook.secret_once" }), h("code", { id: "webhook-secret", text: w.secret }));
    };
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      url.removeAttribute("aria-invalid");
      const body = { url: url.value.trim(), events: [...events.querySelectorAll("input:checked")].map((x) => x.value), active: active.checked };
      if (rotate.checked) body.rotate_secret = true;
      try {
        const w = await R.api("PUT", "/admin/webhooks", body);
        show(w, !configured || !!body.rotate_secret); // the secret is in the answer only then
        configured = true;
        R.toast(R.t("webhook.saved"), "ok");
      } catch (err) {
        R.markRefused(err, { url, events: events.querySelector("input") });
        fail(err);
      }
    });
    const log = h("div", { id: "webhook-log" });
    // a retry is offered on an event's newest attempt once it gave up (failed, no next try)
    const retryButton = (d, rows) => {
      const newest = rows.find((x) => x.event_id === d.event_id && x.type === d.type) === d;
      if (!newest || d.ok || d.next_retry_at !== null || d.type === "ping") return "–";
      return h("button", {
        type: "button",
        class: "btn small secondary",
        "data-retry": d.event_id,
        text: R.t("webhook.retry"),
        "aria-label": R.t("webhook.retry_what", { event: R.has("webhook.event." + d.type) ? R.t("webhook.event." + d.type) : d.type, id: d.event_id }),
        on: {
          click: async (e) => {
            e.target.disabled = true;
            try {
              await R.api("POST", "/admin/webhooks/redeliveries", { type: d.type, event_id: d.event_id });
              R.toast(R.t("webhook.retry_queued"), "ok");
              e.target.replaceWith(h("span", { class: "badge", text: R.t("webhook.retry_pending") }));
            } catch (err) {
              e.target.disabled = false;
              fail(err);
            }
          },
        },
      });
    };
    const list = pagedList(
      log,
      "webhook.log",
      () => ({ path: "/admin/webhooks/deliveries", params: { limit: "20" } }),
      (rows, answer) => {
        // the log's answer carries the endpoint too (null: none yet), so the card needs no
        // second read and a tenant without one gets no 404
        drawEvents(answer.event_types);
        if (!configured && answer.endpoint) show(answer.endpoint, false);
        else if (!configured) status.textContent = R.t("webhook.none");
        return R.table(
          [
            { label: "common.at", value: (d) => msTime(d.at) },
            { label: "webhook.event", key: "type", value: (d) => (R.has("webhook.event." + d.type) ? R.t("webhook.event." + d.type) : d.type) },
            { label: "webhook.attempt", num: true, value: (d) => d.attempt },
            { label: "webhook.result", key: "result", value: (d) => h("span", { class: "badge", "data-ok": d.ok ? "true" : "false", text: d.ok ? R.t("webhook.ok", { code: d.status_code }) : R.t("webhook.failed", { code: d.status_code === null ? "–" : d.status_code }) }) },
            { label: "webhook.latency", num: true, value: (d) => R.num(d.latency_ms) },
            { label: "webhook.next_retry", value: (d) => msTime(d.next_retry_at) },
            { label: "webhook.error", value: (d) => d.error || "–" },
            { label: "common.actions", key: "action", value: (d) => retryButton(d, rows) },
          ],
          rows,
          { emptyKey: "webhook.no_deliveries" }
        );
      },
      h("button", { type: "button", class: "btn small secondary", id: "webhook-log-refresh", i18n: "webhook.refresh", on: { click: () => list(false).catch(fail) } })
    );
    test.addEventListener("click", async () => {
      try {
        const r = await R.api("POST", "/admin/webhooks/test");
        R.toast(r.ok ? R.t("webhook.test_ok", { code: r.status_code }) : R.t("webhook.test_failed", { error: r.error || r.status_code }), r.ok ? "ok" : "error");
        await list(false);
      } catch (err) {
        fail(err);
      }
    });
    list(false).catch(fail);
    return h("div", { class: "stack" }, R.card("webhook.title", form), log);
  }

  function settingsView(root) {
    root.appendChild(h("div", { class: "grid" }, tenantSettingsCard(), webhookCard()));
  }

  // ------------------------------------------------------------------ exports

  const EXPORT_KINDS = ["visits", "leads", "customers", "ledger"];

  /** CSV exports for a date range of the tenant's days: request one, watch it run, download
   * it (a short-lived link; asking again gives a fresh one). */
  function exportsCard() {
    const kind = R.select(EXPORT_KINDS.map((k) => [k, "export.kind." + k]), { id: "export-kind" });
    const today = R.day(R.today());
    const from = h("input", { type: "date", id: "export-from", required: true, value: R.day(new Date(R.today().getTime() - 29 * 86400000)) });
    const to = h("input", { type: "date", id: "export-to", required: true, value: today });
    const go = h("button", { type: "submit", class: "btn", id: "export-start", i18n: "export.start" });
    const jobs = h("ul", { class: "plain", id: "export-jobs", "aria-live": "polite" });
    const form = h("form", { class: "form", id: "export-form" }, h("div", { class: "row" }, R.field("export.kind", kind), R.field("export.from", from), R.field("export.to", to)), go);
    const track = (job, li) => {
      const draw = (j) => {
        R.clear(li);
        // "done" only once there is a link to follow (an older answer may lack one)
        li.setAttribute("data-status", j.status === "done" && !j.url ? "running" : j.status);
        li.append(h("strong", { text: R.t("export.kind." + j.kind) }), " " + j.from + " – " + j.to + " · ", h("span", { class: "badge", text: R.t("export.status." + j.status) }));
        if (j.status === "done") {
          li.append(" " + R.t("export.rows", { n: R.num(j.rows) }) + " · ", h("a", { href: j.url, class: "export-download", download: "", text: R.t("export.download") }));
        }
        if (j.status === "failed" && j.error) li.append(" " + j.error);
      };
      draw(job);
      let waits = 0;
      const step = async () => {
        const j = await R.api("GET", "/admin/exports/" + encodeURIComponent(job.export_id));
        draw(j);
        if ((j.status === "queued" || j.status === "running" || (j.status === "done" && !j.url)) && ++waits < 200) setTimeout(() => step().catch(fail), Math.min(1000 + waits * 250, 5000));
      };
      step().catch(fail);
    };
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      for (const el of [from, to]) el.removeAttribute("aria-invalid");
      try {
        const job = await R.api("POST", "/admin/exports", { kind: kind.value, from: from.value, to: to.value });
        const li = h("li", { "data-export": job.export_id });
        jobs.prepend(li);
        track({ ...job, kind: kind.value, from: from.value, to: to.value }, li);
      } catch (err) {
        R.markRefused(err, { from, to, kind });
        fail(err);
      }
    });
    return R.card("export.title", h("p", { class: "muted", i18n: "export.hint" }), form, jobs);
  }

  // ------------------------------------------------------------------ prizes

  const GRANULARITIES = ["day", "week", "month"];

  /** The prizes each period's settlement pays: per granularity, rank N of the employee or team
   * board (of all campaigns or one) gets P points. Saved as a whole. */
  function prizesCard() {
    const rows = h("tbody", { id: "prize-rows" });
    const add = h("button", { type: "button", class: "btn secondary", id: "prize-add", i18n: "prize.add" });
    const save = h("button", { type: "submit", class: "btn", id: "prize-save", i18n: "common.save", disabled: true });
    let n = 0;
    const row = (gran, p) => {
      const i = ++n;
      const g = R.select(GRANULARITIES.map((x) => [x, "prize.gran." + x]), { "data-prize": "granularity", "aria-label": R.t("prize.granularity") + " " + i });
      g.value = gran;
      const dim = R.select([["employee", "dim.employee"], ["team", "dim.team"]], { "data-prize": "dimension", "aria-label": R.t("lb.dimension") + " " + i });
      dim.value = p.dimension;
      const camp = campaignSelect({ "data-prize": "campaign", "aria-label": R.t("common.campaign") + " " + i }, true);
      camp.value = p.campaign_id || "";
      const rank = h("input", { type: "number", min: "1", max: "100", step: "1", required: true, value: String(p.rank), "data-prize": "rank", "aria-label": R.t("lb.rank") + " " + i });
      const points = h("input", { type: "number", min: "1", max: "1000000", step: "1", required: true, value: String(p.points), "data-prize": "points", "aria-label": R.t("prize.points") + " " + i });
      const remove = h("button", { type: "button", class: "btn small ghost", text: R.t("prize.remove"), "aria-label": R.t("prize.remove") + " " + i });
      const tr = h("tr", { class: "prize-row" }, [g, dim, camp, rank, points, remove].map((el) => h("td", null, el)));
      remove.addEventListener("click", () => tr.remove());
      rows.appendChild(tr);
    };
    const show = (prizes) => {
      R.clear(rows);
      for (const gran of GRANULARITIES) for (const p of prizes[gran] || []) row(gran, p);
      save.disabled = false;
    };
    add.addEventListener("click", () => row("week", { dimension: "employee", rank: rows.children.length + 1, points: 100 }));
    const table = h(
      "div",
      { class: "table-wrap" },
      h("table", { id: "prize-table" }, h("thead", null, h("tr", null, ["prize.granularity", "lb.dimension", "common.campaign", "lb.rank", "prize.points", "common.actions"].map((k) => h("th", { i18n: k })))), rows)
    );
    const form = h("form", { class: "form", id: "prize-form" }, h("p", { class: "muted", i18n: "prize.hint" }), table, h("div", { class: "row" }, add, save));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const body = Object.fromEntries(GRANULARITIES.map((g) => [g, []]));
      for (const tr of rows.querySelectorAll("tr")) {
        const get = (k) => tr.querySelector("[data-prize=" + k + "]").value;
        const p = { dimension: get("dimension"), rank: Number(get("rank")), points: Number(get("points")) };
        if (get("campaign")) p.campaign_id = get("campaign");
        body[get("granularity")].push(p);
      }
      try {
        show(await R.api("PUT", "/admin/prizes", body));
        R.toast(R.t("prize.saved"), "ok");
      } catch (err) {
        fail(err);
      }
    });
    R.api("GET", "/admin/prizes").then(show, fail);
    return R.card("prize.title", form);
  }

  // ------------------------------------------------------------------ start

  R.start({
    role: "admin",
    first: "dashboard",
    onSignIn: async () => {
      const loadZone = async () => {
        R.tz = (await R.api("GET", "/admin/tenant")).timezone || null;
      };
      await Promise.all([loadCampaigns(), loadEmployees(), loadZone()]).catch(fail);
    },
    views: {
      dashboard,
      campaigns: campaignsView,
      tasks: tasksView,
      boards: (root) => R.leaderboardView(root, campaigns, { names: names() }),
      customers: customersView,
      pool: poolView,
      rewards: rewardsView,
      settlements: settlementsView,
      employees: employeesView,
      review: reviewView,
      stories: storiesView,
      settings: settingsView,
    },
  }).catch((err) => console.error(err));
})();
