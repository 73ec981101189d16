/* Ripple employee page (/m): my tasks, my links (copy and share), my poster, my points and
 * ledger, leaderboards, rewards to redeem, my customers and the lead pool. Phone first. */
"use strict";

(function () {
  const R = window.R;
  const h = R.h;
  let campaigns = [];

  function fail(err) {
    R.toast(R.errorText(err), "error");
  }

  async function loadCampaigns() {
    const data = await R.api("GET", "/campaigns?limit=100");
    campaigns = data.items;
  }
  const campaignName = (id) => (campaigns.find((c) => c.campaign_id === id) || {}).name || id;

  // "My stats" in the header: points, refreshed every 2 s on every view.
  let myself = null; // GET /me: who I am on the boards (employee id, team, region)
  async function refreshStats() {
    const me = await R.api("GET", "/me");
    myself = me;
    R.tz = me.timezone || R.tz;
    const box = document.getElementById("my-stats");
    R.clear(box);
    box.appendChild(R.stat("points.balance", me.points.balance, "balance"));
    box.appendChild(R.stat("points.available", me.points.available, "available"));
    box.appendChild(R.stat("points.pending", me.points.pending, "pending"));
    box.hidden = false;
  }

  // ------------------------------------------------------------------ tasks

  function outcomeStats(o) {
    return h(
      "div",
      { class: "stats compact" },
      R.stat("counter.unique_visits", o.unique_visits, "unique_visits"),
      R.stat("counter.forwards", o.forwards, "forwards"),
      R.stat("counter.leads", o.leads, "leads")
    );
  }

  function linkRow(link, text) {
    return h(
      "li",
      { class: "link-row", "data-channel": link.channel },
      h("div", { class: "link-head" }, h("span", { class: "badge", i18n: "channel." + link.channel }), h("code", { class: "short-url", text: link.short_url })),
      R.linkActions(link, text)
    );
  }

  function posterButton(campaignId, poster) {
    const u = new URL(poster.url, location.href);
    const img = h("img", { class: "poster", alt: R.t("poster.alt") , hidden: true });
    const btn = h("button", {
      type: "button",
      class: "btn small secondary",
      text: R.t("poster.show", { channel: R.t("channel." + poster.channel) }),
      on: {
        click: async () => {
          try {
            const q = new URLSearchParams({ channel: poster.channel, template: u.searchParams.get("template") || "", format: "jpeg" });
            const data = await R.api("GET", "/me/posters/" + encodeURIComponent(campaignId) + "?" + q);
            img.src = data.url;
            img.hidden = false;
          } catch (err) {
            fail(err);
          }
        },
      },
    });
    return h("div", { class: "poster-box" }, btn, img);
  }

  function tasksView(root) {
    const list = h("div", { id: "my-tasks" });
    root.appendChild(R.card("nav.tasks", list));
    root.appendChild(
      h("p", { class: "row" },
        h("a", { href: "#/stories", id: "open-stories", class: "btn small secondary", i18n: "story.mine",
          on: { click: (e) => { e.preventDefault(); R.open("stories"); } } }),
        h("a", { href: "#/notifications", id: "open-notifications", class: "btn small secondary", i18n: "notify.settings",
          on: { click: (e) => { e.preventDefault(); R.open("notifications"); } } }))
    );
    const render = async () => {
      const data = await R.api("GET", "/me/tasks?limit=50");
      R.clear(list);
      if (!data.items.length) return list.appendChild(R.empty("task.none_mine"));
      for (const t of data.items) {
        list.appendChild(
          h(
            "article",
            { class: "task-card clickable", tabindex: "0", "data-task": t.task_id, on: { click: () => R.open("task", t.task_id) } },
            h("div", { class: "task-head" }, h("strong", { text: t.title }), h("span", { class: "badge " + t.status, i18n: "taskstatus." + t.status })),
            h("p", { class: "muted", text: R.t("task.due", { deadline: R.time(t.deadline) }) }),
            outcomeStats(t.outcomes)
          )
        );
      }
    };
    return R.poll(render, 5000);
  }

  /** One task (hidden view "task"): copy text, my links with copy/share, posters, live outcomes. */
  function taskView(view, taskId) {
    const box = h("div", { id: "task-view", "data-task": taskId });
    view.appendChild(h("button", { type: "button", class: "btn ghost", i18n: "common.back", on: { click: () => R.open("tasks") } }));
    view.appendChild(box);
    let outcomes = null;
    return R.poll(async () => {
      const t = await R.api("GET", "/me/tasks/" + encodeURIComponent(taskId));
      if (!outcomes) {
        box.appendChild(h("h2", { text: t.title }));
        box.appendChild(h("p", { class: "muted", text: R.t("task.due", { deadline: R.time(t.deadline) }) }));
        const copy = t.copy.text;
        box.appendChild(
          R.card(
            "task.copy",
            h("p", { class: "copy-text", text: copy }),
            h("button", { type: "button", class: "btn small", i18n: "task.copy_text", on: { click: () => R.copy(copy) } })
          )
        );
        box.appendChild(R.card("nav.links", h("ul", { class: "links" }, t.links.map((l) => linkRow(l, copy)))));
        if (t.posters.length) box.appendChild(R.card("poster.title", t.posters.map((p) => posterButton(t.campaign_id, p))));
        outcomes = h("div", { id: "task-outcomes" });
        box.appendChild(R.card("task.outcomes", outcomes));
      }
      R.clear(outcomes).appendChild(outcomeStats(t.outcomes));
      outcomes.appendChild(h("p", { class: "muted" }, h("span", { class: "badge " + t.status, i18n: "taskstatus." + t.status })));
    }, 2000);
  }

  // ------------------------------------------------------------------ links

  function linksView(root) {
    const list = h("ul", { class: "links", id: "my-links" });
    const camp = R.select(campaigns.map((c) => [c.campaign_id, { text: c.name }]), { id: "link-campaign" });
    const channel = R.select(R.CHANNELS.map((c) => [c, "channel." + c]), { id: "link-channel" });
    const form = h(
      "form",
      { class: "form", id: "link-form" },
      h("div", { class: "row" }, R.field("common.campaign", camp), R.field("customer.channel", channel)),
      h("button", { type: "submit", class: "btn", i18n: "link.get" })
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        await R.api("POST", "/campaigns/" + encodeURIComponent(camp.value) + "/links", { channel: channel.value });
        await render();
      } catch (err) {
        fail(err);
      }
    });
    root.appendChild(R.card("link.new", campaigns.length ? form : R.empty("campaign.none")));
    root.appendChild(R.card("nav.links", list));
    const render = async () => {
      const data = await R.api("GET", "/me/links");
      R.clear(list);
      if (!data.items.length) return list.appendChild(R.empty("link.none"));
      for (const l of data.items) {
        const item = linkRow(l, campaignName(l.campaign_id));
        item.insertBefore(h("div", { class: "muted", text: campaignName(l.campaign_id) }), item.firstChild);
        list.appendChild(item);
      }
    };
    render().catch(fail);
  }

  // ------------------------------------------------------------------ points

  function pointsView(root) {
    const out = h("div", { id: "ledger" });
    root.appendChild(R.card("points.ledger", out));
    const render = async () => {
      const data = await R.api("GET", "/me/ledger?limit=50");
      R.clear(out).appendChild(
        R.table(
          [
            { label: "common.at", value: (e) => R.time(e.at) },
            { label: "points.kind", value: (e) => (R.has("kind." + e.kind) ? R.t("kind." + e.kind) : e.kind) },
            { label: "common.campaign", value: (e) => (e.campaign_id ? campaignName(e.campaign_id) : "–") },
            { label: "points.points", value: (e) => R.num(e.points), num: true },
            { label: "points.status", value: (e) => (R.has("entry." + e.status) ? R.t("entry." + e.status) : e.status) },
          ],
          data.items,
          { emptyKey: "points.none" }
        )
      );
    };
    return R.poll(render, 5000);
  }

  // ------------------------------------------------------------------ rewards

  function rewardsView(root) {
    const list = h("div", { class: "reward-grid", id: "rewards" });
    const mine = h("div", { id: "my-redemptions" });
    root.appendChild(R.card("nav.rewards", list));
    root.appendChild(R.card("reward.my_redemptions", mine));
    const render = async () => {
      const [rewards, redemptions] = await Promise.all([R.api("GET", "/rewards"), R.api("GET", "/me/redemptions?limit=20")]);
      R.clear(list);
      if (!rewards.items.length) list.appendChild(R.empty("reward.none"));
      for (const r of rewards.items) {
        list.appendChild(
          h(
            "article",
            { class: "reward" },
            h("strong", { text: r.name }),
            r.description ? h("p", { class: "muted", text: r.description }) : null,
            h("p", { text: R.t("reward.costs", { points: R.num(r.price) }) }),
            h("p", { class: "muted", text: r.unlimited ? R.t("reward.unlimited") : R.t("reward.left", { n: R.num(r.stock) }) }),
            redeemControl(r)
          )
        );
      }
      R.clear(mine).appendChild(
        R.table(
          [
            { label: "reward.name", value: (x) => x.reward_name },
            { label: "reward.price", value: (x) => R.num(x.price), num: true },
            { label: "customer.status", value: (x) => h("span", { class: "badge", i18n: "redemption." + x.status }) },
            { label: "reward.code", value: (x) => x.code },
            { label: "common.created", value: (x) => R.time(x.created_at) },
          ],
          redemptions.items,
          { emptyKey: "redemption.none" }
        )
      );
    };
    // One redemption per user action: "Redeem" only opens a confirmation; the
    // Idempotency-Key is made when it opens (one per intended redemption) and kept until that
    // action is over, so a double tap, a retry after a lost answer or a re-render replays the
    // same request instead of charging again; the button is disabled while it is pending.
    const intents = new Map(); // reward_id -> {key, busy}
    const newKey = () => {
      const bytes = new Uint8Array(12);
      crypto.getRandomValues(bytes);
      return "r" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    };
    const redeemControl = (r) => {
      const box = h("div", { class: "redeem", "data-reward": r.reward_id });
      const draw = () => {
        R.clear(box);
        const intent = intents.get(r.reward_id);
        if (!intent) {
          box.appendChild(
            h("button", {
              type: "button",
              class: "btn small",
              i18n: "reward.redeem",
              disabled: !r.unlimited && r.stock <= 0,
              on: {
                click: () => {
                  intents.set(r.reward_id, { key: newKey(), busy: false });
                  draw();
                },
              },
            })
          );
          return;
        }
        const confirm = h("button", {
          type: "button",
          class: "btn small",
          "data-confirm": "1",
          i18n: intent.busy ? "reward.redeeming" : "reward.confirm_yes",
          disabled: intent.busy,
          "aria-busy": intent.busy ? "true" : null,
          on: { click: () => redeem(r, draw) },
        });
        const cancel = h("button", {
          type: "button",
          class: "btn small secondary",
          i18n: "common.back",
          disabled: intent.busy,
          on: {
            click: () => {
              intents.delete(r.reward_id);
              draw();
            },
          },
        });
        box.appendChild(h("p", { class: "confirm-text", text: R.t("reward.confirm", { name: r.name, points: R.num(r.price) }) }));
        box.appendChild(h("div", { class: "row" }, confirm, cancel));
      };
      draw();
      return box;
    };
    const redeem = async (r, draw) => {
      const intent = intents.get(r.reward_id);
      if (!intent || intent.busy) return; // a second tap while pending does nothing
      intent.busy = true;
      draw();
      try {
        await R.api("POST", "/rewards/" + encodeURIComponent(r.reward_id) + "/redeem", null, { "Idempotency-Key": intent.key });
        intents.delete(r.reward_id);
        R.toast(R.t("reward.redeemed", { name: r.name }), "ok");
        await Promise.all([render(), refreshStats()]);
      } catch (err) {
        if (err && err.status) {
          intents.delete(r.reward_id); // answered: this action is over (a new one gets a new key)
        } else {
          intent.busy = false; // no answer: retrying this same action reuses its key
        }
        draw();
        if (err.status === 409 && err.body && err.body.error && err.body.error.details && err.body.error.details.shortfall) {
          R.toast(R.t("reward.shortfall", { n: err.body.error.details.shortfall }), "error");
        } else fail(err);
      }
    };
    render().catch(fail);
  }

  // ------------------------------------------------------------------ customers

  function customersView(root) {
    const mine = h("div", { id: "my-customers" });
    const pool = h("div", { id: "pool" });
    root.appendChild(R.card("customer.mine", mine));
    root.appendChild(R.card("nav.pool", pool));
    // My own customers open their detail (hidden view "customer"); pool rows are masked.
    const row = (c, claim) =>
      h(
        "article",
        claim
          ? { class: "customer" }
          : { class: "customer clickable", tabindex: "0", "data-customer": c.customer_id, on: { click: () => R.open("customer", c.customer_id) } },
        h("div", { class: "task-head" }, h("strong", { text: c.name || "–" }), h("span", { class: "badge", i18n: "status." + c.status })),
        // plain text here: a tap on the row opens the customer, whose detail has the tel:/mailto: links
        h("p", { class: "muted", text: [c.phone, c.email].filter(Boolean).join(" · ") || "–" }),
        h("p", { class: "muted", text: campaignName(c.source.campaign_id) + " · " + R.time(c.created_at) }),
        claim ? h("button", { type: "button", class: "btn small", i18n: "customer.claim", on: { click: () => claim(c) } }) : null
      );
    const render = async () => {
      const [m, p] = await Promise.all([R.api("GET", "/customers?limit=50"), R.api("GET", "/lead-pool?limit=20")]);
      R.clear(mine);
      if (!m.items.length) mine.appendChild(R.empty("customer.none"));
      m.items.forEach((c) => mine.appendChild(row(c, null)));
      R.clear(pool);
      if (!p.items.length) pool.appendChild(R.empty("customer.pool_empty"));
      p.items.forEach((c) => pool.appendChild(row(c, claim)));
    };
    const claim = async (c) => {
      try {
        await R.api("POST", "/lead-pool/" + encodeURIComponent(c.customer_id) + "/claim");
        R.toast(R.t("customer.claimed"), "ok");
        await render();
      } catch (err) {
        if (err.status === 409) R.toast(R.t("customer.taken"), "error");
        else fail(err);
      }
    };
    render().catch(fail);
  }

  /** One of my customers (hidden view "customer"): fields, notes, history; add a note and
   * change the status (the API lets the owner do both; a conversion is the admin's). */
  function customerView(view, customerId) {
    view.appendChild(h("button", { type: "button", class: "btn ghost", id: "customer-back", i18n: "common.back", on: { click: () => R.open("customers") } }));
    const box = h("div", { id: "customer-detail", class: "customer-detail" });
    view.appendChild(R.card("customer.detail", box));
    R.customerDetail(box, customerId, { admin: false, campaignName }).catch(fail);
  }

  // ------------------------------------------------------------------ my business card

  const CARD_FIELDS = ["title", "department", "phone", "email", "intro", "wechat", "line", "photo_url", "wechat_qr_url", "line_qr_url"];

  /** My card: edit it (the server names a bad field: it is marked and nothing is saved),
   * preview and share it, and the card radar (who viewed it, how often, what they tapped). */
  function cardView(root) {
    const inputs = {};
    for (const f of CARD_FIELDS) {
      inputs[f] =
        f === "intro"
          ? h("textarea", { id: "card-" + f, name: f, rows: "3", maxlength: "500" })
          : h("input", { id: "card-" + f, name: f, type: f === "email" ? "email" : f === "phone" ? "tel" : f.endsWith("url") ? "url" : "text", maxlength: f.endsWith("url") ? "512" : "100" });
    }
    const links = h("div", { id: "card-links" });
    const form = h("form", { class: "form", id: "card-form", novalidate: true }, CARD_FIELDS.map((f) => R.field("card." + f, inputs[f])), h("button", { type: "submit", class: "btn", id: "card-save", i18n: "card.save" }));
    const fill = R.formFiller(inputs, form.querySelector("#card-save"));
    const show = (data, force) => {
      fill(data.card, force);
      R.clear(links).appendChild(
        h(
          "div",
          null,
          h("code", { class: "short-url", id: "card-url", text: data.card_url }),
          h("div", { class: "link-actions" }, h("a", { class: "btn small secondary", id: "card-preview", href: data.card_url, target: "_blank", rel: "noopener", i18n: "card.preview" })),
          R.linkActions({ short_url: data.card_url, channel: "other" }, data.name)
        )
      );
    };
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      for (const f of CARD_FIELDS) inputs[f].removeAttribute("aria-invalid");
      const body = {};
      for (const f of CARD_FIELDS) body[f] = inputs[f].value;
      try {
        show(await R.api("PUT", "/me/card", body), true);
        R.toast(R.t("card.saved"));
      } catch (err) {
        R.markRefused(err, inputs);
        fail(err);
      }
    });
    const totals = h("p", { class: "muted", id: "radar-totals" });
    const radar = h("div", { id: "card-radar" });
    root.appendChild(R.card("card.share", links));
    root.appendChild(R.card("card.radar", totals, radar));
    root.appendChild(R.card("card.mine", form));
    // photo and QR images: uploaded as they are, checked and re-encoded by the server
    const uploads = ["photo", "wechat_qr", "line_qr"].map((slot) => {
      const input = h("input", { type: "file", id: "card-image-" + slot, accept: "image/jpeg,image/png,image/webp" });
      input.addEventListener("change", async () => {
        if (!input.files || !input.files[0]) return;
        try {
          show(await R.api("PUT", "/me/card/images/" + slot, input.files[0]), false); // keeps unsaved typing
          R.toast(R.t("card.saved"));
        } catch (err) {
          fail(err);
        }
        input.value = "";
      });
      return R.field("card.image." + slot, input);
    });
    root.appendChild(R.card("card.images", h("div", { class: "form" }, uploads)));
    R.api("GET", "/me/card").then((data) => show(data, false), fail);
    const tapsText = (taps) => Object.entries(taps).map(([a, n]) => R.t("tap." + a) + " ×" + n).join(", ") || "–";
    return R.poll(async () => {
      const data = await R.api("GET", "/me/card/radar?limit=50");
      const t = data.totals;
      totals.textContent = R.t("card.totals", { viewers: t.viewers, known: t.known_customers, anonymous: t.anonymous, views: t.views });
      R.clear(radar).appendChild(
        R.table(
          [
            { label: "card.viewer", value: (v) => (v.customer ? v.customer.name : R.t("card.anonymous", { id: v.visitor.slice(0, 6) })) },
            { label: "card.views", value: (v) => R.num(v.views), num: true },
            { label: "card.taps", value: (v) => tapsText(v.taps) },
            { label: "card.last_seen", value: (v) => R.time(v.last_seen) },
          ],
          data.viewers,
          { emptyKey: "card.none" }
        )
      );
    }, 3000);
  }

  // ------------------------------------------------------------------ notifications

  /** What I am told about by e-mail, when not (quiet hours, in my zone), in which language,
   * and what happened to my recent notifications (hidden view "notifications"). */
  function notificationsView(view) {
    view.appendChild(h("button", { type: "button", class: "btn ghost", i18n: "common.back", on: { click: () => R.open("tasks") } }));
    const kinds = h("fieldset", { class: "kinds" }, h("legend", { i18n: "notify.by_email" }));
    const boxes = {};
    const quietOn = h("input", { type: "checkbox", id: "quiet-on" });
    const start = h("input", { type: "time", id: "quiet-start", value: "22:00" });
    const end = h("input", { type: "time", id: "quiet-end", value: "08:00" });
    const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
    const zone = h("input", { id: "notify-zone", list: "notify-zones", autocomplete: "off", placeholder: Intl.DateTimeFormat().resolvedOptions().timeZone });
    const zoneList = h("datalist", { id: "notify-zones" }, zones.map((z) => h("option", { value: z })));
    const lang = R.select(
      [["", "notify.lang.auto"], ["en", { text: "English" }], ["ja", { text: "日本語" }], ["zh-Hans", { text: "简体中文" }], ["zh-Hant", { text: "繁體中文" }]],
      { id: "notify-lang" }
    );
    const save = h("button", { type: "submit", class: "btn", id: "notify-save", i18n: "common.save", disabled: true });
    const form = h(
      "form",
      { class: "form", id: "notify-form" },
      kinds,
      h("label", { class: "check" }, quietOn, h("span", { i18n: "notify.quiet" })),
      h("div", { class: "row" }, R.field("notify.quiet_start", start), R.field("notify.quiet_end", end)),
      R.field("notify.zone", zone, "notify.zone_hint"),
      zoneList,
      R.field("notify.lang", lang),
      save
    );
    const recent = h("div", { id: "notify-recent" });
    view.appendChild(R.card("notify.settings", form));
    view.appendChild(R.card("notify.recent", recent));
    const show = (data) => {
      const p = data.preferences;
      R.clear(kinds).appendChild(h("legend", { i18n: "notify.by_email" }));
      for (const kind of data.kinds) {
        boxes[kind] = h("input", { type: "checkbox", id: "notify-" + kind.replace(".", "-"), "data-kind": kind });
        boxes[kind].checked = !!p.email[kind];
        kinds.appendChild(h("label", { class: "check" }, boxes[kind], h("span", { i18n: "notify.kind." + kind })));
      }
      quietOn.checked = !!p.quiet_hours;
      if (p.quiet_hours) {
        start.value = p.quiet_hours.start;
        end.value = p.quiet_hours.end;
      }
      zone.value = p.timezone || "";
      lang.value = p.language || "";
      save.disabled = false;
      if (data.recent) {
        R.clear(recent).appendChild(
          R.table(
            [
              { label: "notify.kind", value: (m) => R.t("notify.kind." + m.kind) },
              { label: "notify.state", value: (m) => R.t("notify.state." + m.state) + (m.reason ? " (" + m.reason + ")" : "") },
              { label: "notify.when", value: (m) => R.time(m.sent_at || m.created_at) },
            ],
            data.recent,
            { emptyKey: "notify.none" }
          )
        );
      }
    };
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const email = {};
      for (const [kind, box] of Object.entries(boxes)) email[kind] = box.checked;
      const body = {
        email,
        quiet_hours: quietOn.checked ? { start: start.value, end: end.value } : null,
        timezone: zone.value.trim() || null,
        language: lang.value || null,
      };
      try {
        const saved = await R.api("PUT", "/me/notifications", body);
        show(saved);
        R.toast(R.t("notify.saved"));
      } catch (err) {
        R.markRefused(err, { timezone: zone, quiet_hours: start, language: lang });
        fail(err);
      }
    });
    R.api("GET", "/me/notifications").then(show, fail);
  }

  // ------------------------------------------------------------------ stories

  /** My own stories (hidden view "stories", opened from the tasks tab): write one, see what
   * the company's content policy finds as I type, add up to nine photos, send it to review,
   * and share the approved ones through my own link. */
  function storiesView(view) {
    view.appendChild(h("button", { type: "button", class: "btn ghost", i18n: "common.back", on: { click: () => R.open("tasks") } }));
    const title = h("input", { id: "story-title", maxlength: "80", autocomplete: "off" });
    const text = h("textarea", { id: "story-text", rows: "6", maxlength: "2000" });
    const paid = h("input", { type: "checkbox", id: "story-paid" });
    const campaign = R.select([["", "story.no_campaign"], ...campaigns.map((c) => [c.campaign_id, { text: c.name }])], { id: "story-campaign" });
    const findingsBox = h("ul", { id: "story-findings", class: "findings", "aria-live": "polite" });
    const thumbs = h("div", { id: "story-images", class: "thumbs" });
    const file = h("input", { type: "file", id: "story-image", accept: "image/jpeg,image/png,image/webp", multiple: true });
    const save = h("button", { type: "button", class: "btn secondary", id: "story-save", i18n: "story.save" });
    const submit = h("button", { type: "submit", class: "btn", id: "story-submit", i18n: "story.submit" });
    const fresh = h("button", { type: "button", class: "btn ghost", id: "story-new", i18n: "story.new" });
    const form = h(
      "form",
      { class: "form", id: "story-form" },
      R.field("story.title", title),
      R.field("story.text", text, "story.text_hint"),
      R.field("story.campaign", campaign),
      h("label", { class: "check" }, paid, h("span", { i18n: "story.paid" })),
      findingsBox,
      R.field("story.images", file, "story.images_hint"),
      thumbs,
      h("div", { class: "row" }, save, submit, fresh)
    );
    const list = h("div", { id: "my-stories" });
    view.appendChild(R.card("story.write", form));
    view.appendChild(R.card("story.mine", list));
    let current = null; // the story being edited (null: a new one)
    const body = () => ({ title: title.value, text: text.value, paid: paid.checked, campaign_id: campaign.value || null });
    const showFindings = (found) => {
      R.clear(findingsBox);
      for (const f of found) {
        const key = "story.rule." + f.rule.replace(/-/g, "_");
        const msg = R.has(key) ? R.t(key, { match: f.match, field: R.t("story." + f.field) }) : f.message;
        findingsBox.appendChild(h("li", { class: "finding", "data-rule": f.rule, "data-field": f.field, text: msg }));
      }
      for (const [name, input] of [["title", title], ["text", text]]) {
        if (found.some((f) => f.field === name)) input.setAttribute("aria-invalid", "true");
        else input.removeAttribute("aria-invalid");
      }
    };
    let checkSeq = 0;
    let timer = null;
    const check = () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const seq = ++checkSeq;
        try {
          const got = await R.api("POST", "/me/stories/check", { ...body(), images: current ? current.images.length : 0 });
          if (seq === checkSeq) showFindings(got.findings); // only the newest answer counts
        } catch (err) {
          if (seq === checkSeq) fail(err);
        }
      }, 300);
    };
    for (const el of [title, text]) el.addEventListener("input", check);
    for (const el of [paid, campaign]) el.addEventListener("change", check);
    const drawThumbs = () => {
      R.clear(thumbs);
      (current ? current.images : []).forEach((url, i) => {
        thumbs.appendChild(
          h(
            "figure",
            { class: "thumb" },
            h("img", { src: url, alt: R.t("story.image_n", { n: i + 1 }) }),
            h("button", {
              type: "button",
              class: "btn small ghost",
              "data-remove": String(i),
              text: R.t("story.remove_image", { n: i + 1 }),
              on: {
                click: async () => {
                  try {
                    load(await R.api("DELETE", "/me/stories/" + current.story_id + "/images/" + i));
                  } catch (err) {
                    fail(err);
                  }
                },
              },
            })
          )
        );
      });
    };
    const editable = (st) => st.status === "draft" || st.status === "rejected";
    const load = (st) => {
      current = st;
      title.value = st ? st.title : "";
      text.value = st ? st.text : "";
      paid.checked = st ? st.paid : false;
      campaign.value = st && st.campaign_id ? st.campaign_id : "";
      for (const el of [title, text, paid, campaign, file, save, submit]) el.disabled = !!st && !editable(st);
      showFindings(st && st.findings ? st.findings : []);
      drawThumbs();
    };
    const persist = async () => {
      const st = current
        ? await R.api("PATCH", "/me/stories/" + current.story_id, body())
        : await R.api("POST", "/me/stories", body());
      load(st);
      return st;
    };
    save.addEventListener("click", async () => {
      try {
        await persist();
        R.toast(R.t("story.saved"), "ok");
        render();
      } catch (err) {
        R.markRefused(err, { title, text, campaign_id: campaign, paid });
        fail(err);
      }
    });
    file.addEventListener("change", async () => {
      try {
        let st = current || (await persist());
        for (const f of file.files) st = await R.api("POST", "/me/stories/" + st.story_id + "/images", f);
        load(st);
        check();
      } catch (err) {
        R.markRefused(err, { images: file });
        fail(err);
      }
      file.value = "";
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const st = await persist();
        load(await R.api("POST", "/me/stories/" + st.story_id + "/submit"));
        R.toast(R.t("story.submitted"), "ok");
        render();
      } catch (err) {
        const details = err && err.body && err.body.error && err.body.error.details;
        if (details && details.findings) showFindings(details.findings);
        R.markRefused(err, { title, text, campaign_id: campaign, paid, images: file });
        fail(err);
      }
    });
    fresh.addEventListener("click", () => load(null));
    const render = async () => {
      const data = await R.api("GET", "/me/stories?limit=50");
      R.clear(list);
      if (!data.items.length) return list.appendChild(R.empty("story.none"));
      for (const st of data.items) {
        const item = h(
          "article",
          { class: "task-card", "data-story": st.story_id },
          h("div", { class: "task-head" }, h("strong", { text: st.title || R.t("story.untitled") }), h("span", { class: "badge " + st.status, i18n: "story.status." + st.status })),
          st.status === "rejected" && st.reason ? h("p", { class: "muted", text: R.t("story.rejected_because", { reason: st.reason }) }) : null,
          st.points ? h("p", { class: "muted", text: R.t("story.points", { n: R.num(st.points) }) }) : null
        );
        if (st.status === "approved" && st.short_url) {
          item.appendChild(R.linkActions({ short_url: st.short_url, channel: "wechat" }, st.title));
          item.appendChild(h("button", { type: "button", class: "btn small ghost", "data-withdraw": st.story_id, i18n: "story.withdraw",
            on: { click: async () => { try { await R.api("POST", "/me/stories/" + st.story_id + "/withdraw"); render(); } catch (err) { fail(err); } } } }));
        }
        if (editable(st)) {
          item.appendChild(h("button", { type: "button", class: "btn small secondary", "data-edit": st.story_id, i18n: "story.edit",
            on: { click: async () => { try { load(await R.api("GET", "/me/stories/" + st.story_id)); title.focus(); } catch (err) { fail(err); } } } }));
        }
        list.appendChild(item);
      }
    };
    load(null);
    render().catch(fail);
  }

  // ------------------------------------------------------------------ start

  let stopStats = null;
  R.start({
    role: "employee",
    first: "tasks",
    onSignIn: async () => {
      await loadCampaigns().catch(fail);
      if (stopStats) stopStats();
      stopStats = R.poll(refreshStats, 2000);
    },
    views: {
      tasks: tasksView,
      links: linksView,
      points: pointsView,
      boards: (root) => R.leaderboardView(root, campaigns, { me: () => myself }),
      rewards: rewardsView,
      customers: customersView,
      card: cardView,
    },
    hidden: { task: taskView, customer: customerView, notifications: notificationsView, stories: storiesView },
    parentOf: { task: "tasks", customer: "customers", notifications: "tasks", stories: "tasks" },
  }).catch((err) => console.error(err));
  document.getElementById("logout").addEventListener("click", () => {
    if (stopStats) stopStats();
    stopStats = null;
    const box = document.getElementById("my-stats");
    R.clear(box);
    box.hidden = true;
  });
})();
