// The web app's pages: agreements (with filters), one agreement (terms in words, the model's rounds as a chart,
// the worked table, deposit and claim, the modeller's actions), one model (its record, agreements, series and
// predictions commitments), positions, and the modeller's form. Every amount
// comes from the server in wei and is shown exactly; transactions go through the wallet (wallet.js).
import { formatUnits, parseUnits } from "viem";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./app.css";
import { Wallet, WalletError, discover } from "./wallet.js";

const state = { config: null, wallet: null };
const $ = (selector, root = document) => root.querySelector(selector);

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** Wei (decimal string or bigint) as exact NMR text, as the CLI prints it. */
export function nmr(wei) {
  return `${formatUnits(BigInt(wei), 18)} NMR`;
}
const amount = (wei, testid) => h("span", { class: "amount", "data-wei": String(wei), "data-testid": testid }, nmr(wei));
const percent = (bps) => `${Number(bps) / 100}%`;
const short = (address) => `${address.slice(0, 6)}…${address.slice(-4)}`;

async function api(path, body) {
  const response = await fetch(path, body ? { method: "POST", body: JSON.stringify(body) } : {});
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}
const explain = async (data, contract) => (await api("/api/explain", { data, contract })).reason;

// -------------------------------------------------------------------------------------------- status line

function say(text, kind = "info") {
  const line = $("#status");
  line.className = `status ${kind}`;
  line.textContent = text;
}

async function act(label, steps) {
  if (!state.wallet || !state.wallet.account) return say("Connect your wallet first.", "error");
  try {
    say(`${label}…`, "pending");
    lastHash = null;
    await steps((text) => say(`${label}: ${text}`, "pending"));
    const hash = lastHash;
    await route();
    say(`${label}: confirmed${hash ? ` in ${hash}` : ""}; done.`, "ok");
  } catch (error) {
    say(`${label}: ${error instanceof WalletError ? error.message : `failed: ${error.message || error}`}`, "error");
  }
}

let lastHash = null;
const pending = (step) => (hash) => {
  lastHash = hash;
  step(`pending ${hash}`);
};

// -------------------------------------------------------------------------------------------- wallet

function renderWallet() {
  const box = $("#wallet");
  box.replaceChildren();
  const w = state.wallet;
  if (w && w.account) {
    box.append(h("span", { "data-testid": "account", title: w.account }, `${short(w.account)} · chain ${w.chainId}`));
  } else {
    box.append(h("button", { "data-testid": "connect", onclick: connect }, "Connect wallet"));
  }
}

async function connect() {
  const wallets = await discover();
  if (!wallets.length) return say("No browser wallet found: install one (e.g. MetaMask) and reload.", "error");
  if (wallets.length === 1) return connectTo(wallets[0]);
  say("Several wallets announced themselves (EIP-6963): choose one.", "info");
  $("#status").append(...wallets.map((w) => h("button", { class: "choice", onclick: () => connectTo(w) }, w.info.name)));
}

async function connectTo(chosen) {
  const wallet = new Wallet(chosen.provider, state.config, explain);
  try {
    await wallet.connect();
    state.wallet = wallet;
    chosen.provider.on?.("chainChanged", () => location.reload());
    chosen.provider.on?.("accountsChanged", () => location.reload());
    say(`Connected ${wallet.account} through ${chosen.info.name}.`, "ok");
    renderWallet();
    await route();
  } catch (error) {
    state.wallet = null;
    const message = error instanceof WalletError ? error.message : `the wallet refused: ${error.message || error}`;
    say(message, "error");
    if (error instanceof WalletError && wallet.chainId && wallet.chainId !== state.config.chain_id) {
      $("#status").append(
        " ",
        h("button", { "data-testid": "switch-chain", onclick: () => wallet.switchChain().then(() => connectTo(chosen), (e) => say(`switch refused: ${e.message}`, "error")) }, "Switch network"),
      );
    }
    renderWallet();
  }
}

// -------------------------------------------------------------------------------------------- list

const FILTERS = [
  ["model", "model UUID", "text"],
  ["max_profit_share", "max profit share (e.g. 0.5)", "text"],
  ["min_reserve_ratio", "min reserve ratio (e.g. 0.5)", "text"],
  ["max_lockup", "max lockup (rounds)", "number"],
];

async function listPage(params) {
  const form = h(
    "form",
    { class: "filters", "data-testid": "filters", onsubmit: (e) => { e.preventDefault(); location.hash = "#/?" + new URLSearchParams(new FormData(form)); } },
    FILTERS.map(([name, label, type]) => h("label", {}, label, h("input", { name, type, value: params.get(name) || "" }))),
    h("label", {}, "phase", h("select", { name: "phase" }, ["", "open", "locked", "matured", "settled", "defaulted", "cancelled"].map((p) => h("option", { value: p, selected: params.get("phase") === p }, p || "any")))),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "open", value: "1", checked: params.get("open") === "1" }), "open capacity only"),
    h("button", { type: "submit", "data-testid": "apply-filters" }, "Filter"),
  );
  const rows = await api("/api/agreements?" + params);
  const list = h("div", { class: "cards", "data-testid": "agreement-list" },
    rows.length ? rows.map((a) => h("a", { class: "card", href: `#/agreement/${a.address}`, "data-testid": "agreement-row", "data-address": a.address },
      h("div", { class: "row" }, h("strong", {}, `model ${a.model.slice(0, 8)}`), h("span", { class: `phase ${a.phase}` }, a.phase)),
      h("div", {}, `${a.units}/${a.capacity_units} units of `, amount(a.unit_size)),
      h("div", { class: "muted" }, `profit share ${percent(a.profit_share_bps)} · reserve ${percent(a.reserve_ratio_bps)} · ${a.lockup_rounds} rounds`),
      h("div", { class: "muted" }, a.phase_words),
    )) : h("p", { "data-testid": "no-agreements" }, "No agreement matches these filters."));
  return [h("h1", {}, "Agreements"), form, list];
}

// -------------------------------------------------------------------------------------------- one agreement

function chart(record) {
  const rounds = record.rounds.filter((r) => !r.missed);
  const box = h("div", { class: "chart", "data-testid": "rounds-chart" });
  if (!rounds.length) return h("p", { "data-testid": "no-rounds" }, "No round of this model is final yet.");
  const data = [rounds.map((r) => r.round), rounds.map((r) => Number(BigInt(r.index) / 10n ** 12n) / 1e6), rounds.map((r) => Number(BigInt(r.return) / 10n ** 12n) / 1e4)];
  requestAnimationFrame(() => {
    const width = Math.min(box.clientWidth || 600, 760);
    new uPlot({
      width, height: 220,
      scales: { x: { time: false } },
      axes: [{ label: "round" }, { label: "index" }, { side: 1, scale: "%", label: "return %", grid: { show: false } }],
      series: [{ label: "round" }, { label: "index", stroke: "#1f6feb", width: 2 }, { label: "return %", scale: "%", stroke: "#d29922", paths: uPlot.paths.bars({ size: [0.5] }), fill: "#d2992255" }],
    }, data, box);
  });
  return box;
}

function outcomes(o) {
  if (!o) return h("p", { "data-testid": "no-outcomes" }, "No round of this model is final yet: nothing to draw from.");
  if (o.error) return h("p", { "data-testid": "no-outcomes" }, o.error);
  const box = h("div", { class: "chart", "data-testid": "outcome-chart" });
  const mid = o.bins.map((b) => Number((BigInt(b.from) + BigInt(b.to)) / 2n / 10n ** 14n) / 1e4);
  requestAnimationFrame(() => {
    new uPlot({
      width: Math.min(box.clientWidth || 600, 760), height: 200,
      scales: { x: { time: false } },
      axes: [{ label: "NMR received" }, { label: "lockups" }],
      series: [{ label: "NMR" }, { label: "lockups", stroke: "#1f883d", fill: "#1f883d55", paths: uPlot.paths.bars({ size: [0.9] }) }],
    }, [mid, o.bins.map((b) => b.count)], box);
  });
  return h("div", {},
    h("p", {}, `${o.units} units (of ${o.total_units} in the agreement), paying `, amount(o.paid_in), `, over ${o.paths} lockups whose rounds are drawn from the model's ${o.rounds_drawn_from} posted rounds, repaid in full:`),
    h("div", { class: "facts" },
      fact("5% of lockups receive at most", amount(o.p5, "outcome-p5")),
      fact("median", amount(o.median, "outcome-median")),
      fact("95% receive at most", amount(o.p95, "outcome-p95")),
      fact("lockups ending below what was paid in", h("span", { "data-testid": "outcome-losses" }, `${o.loss_paths} of ${o.paths}`))),
    box);
}

function fact(label, ...value) {
  return h("div", { class: "fact" }, h("span", { class: "muted" }, label), h("span", {}, ...value));
}

async function agreementPage(address, params) {
  const account = state.wallet?.account;
  const units = params.get("units") || "";
  const a = await api(`/api/agreements/${address}?` + new URLSearchParams({ units, ...(account ? { backer: account } : {}) }));
  const contract = "BackingAgreement";
  const isModeller = account && account.toLowerCase() === a.modeller.toLowerCase();
  const page = [
    h("h1", {}, `Agreement ${short(a.address)}`),
    h("p", { class: `phase ${a.phase}`, "data-testid": "phase" }, a.phase_words),
    h("ul", { class: "words", "data-testid": "terms-words" }, a.terms_words.map((w) => h("li", {}, w))),
    h("div", { class: "facts" },
      fact("model", modelLink(a.model)),
      fact("modeller", h("span", { title: a.modeller }, short(a.modeller)), ` · ${a.record.attested ? "attested" : "not attested"} · ${a.record.modeller_defaults} defaults`),
      fact("units sold / capacity", h("span", { "data-testid": "units" }, `${a.units} / ${a.capacity_units}`)),
      fact("deposits close", new Date(a.open_until * 1000).toISOString().replace(".000", "")),
      fact("reserve posted", amount(a.reserve, "reserve"), " (needed to lock now: ", amount(a.required_reserve, "required-reserve"), ")"),
      fact("coverage", `covers the modeller's share of a loss up to `, amount(a.covered_loss, "covered-loss"), ` (${percent(a.covered_loss_bps)} of the stake)`),
      a.amount_due ? fact("amount due", amount(a.amount_due, "amount-due"), " · outstanding ", amount(a.outstanding, "outstanding")) : null,
      a.commitments_promise ? fact("predictions commitments", h("span", { "data-testid": "agreement-promise" }, a.commitments_promise), " · ", h("a", { href: `#/model/${a.model}` }, "the record")) : null,
      a.record.agreements.length > 1 ? fact("the model's other agreements", a.record.agreements.filter((x) => x !== a.address).map((x) => h("a", { href: `#/agreement/${x}` }, short(x) + " "))) : null,
    ),
    h("h2", {}, "The model's posted rounds"),
    chart(a.record),
    h("h2", {}, "What a backer receives"),
    h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); location.hash = `#/agreement/${a.address}?units=${$("[name=units]", e.target).value}`; } },
      h("label", {}, "units ", h("input", { name: "units", type: "number", min: "1", value: a.what_if_units, "data-testid": "what-if-units" })),
      h("button", { type: "submit" }, "Show")),
    h("table", { class: "table", "data-testid": "what-if" },
      h("tr", {}, h("th", {}, "the stake ends at"), h("th", {}, "you pay"), h("th", {}, "you receive")),
      a.what_if.map((row) => h("tr", { "data-testid": "what-if-row" }, h("td", {}, amount(row.final_value), ` (×${row.ratio})`), h("td", {}, amount(row.paid_in)), h("td", {}, amount(row.receives, "receives"))))),
    h("p", { class: "muted" }, "By the reference model (the contracts' integer math), others' units as they stand, repaid in full."),
    h("h2", {}, "Outcomes on the model's own record (Monte Carlo)"),
    outcomes(a.outcomes),
  ];
  const actions = h("div", { class: "actions", "data-testid": "actions" });
  if (a.position) {
    actions.append(h("p", { "data-testid": "position" }, `You hold ${a.position.units} units; claimable now: `, amount(a.position.claimable, "claimable"), a.position.claimed ? " (claimed)" : ""));
  }
  if (a.phase === "Open") {
    const input = h("input", { type: "number", min: "1", value: "1", "data-testid": "deposit-units" });
    actions.append(h("div", { class: "inline" }, input,
      h("button", { "data-testid": "deposit", onclick: () => act(`Deposit ${input.value} units`, async (step) => {
        const n = BigInt(input.value || "0");
        if (n <= 0n) throw new WalletError("give a whole number of units, at least 1");
        await state.wallet.approve(a.address, n * BigInt(a.unit_size), step);
        await state.wallet.send(contract, a.address, "deposit", [n], pending(step));
      }) }, "Approve and deposit"),
      a.position && a.position.units ? h("button", { "data-testid": "withdraw", onclick: () => act(`Withdraw ${input.value} units`, (step) => state.wallet.send(contract, a.address, "withdraw", [BigInt(input.value)], pending(step))) }, "Withdraw") : null));
  }
  if (["Settled", "Defaulted", "Cancelled"].includes(a.phase) && a.position && !a.position.claimed && a.position.units) {
    actions.append(h("button", { "data-testid": "claim", onclick: () => act("Claim", (step) => state.wallet.send(contract, a.address, "claim", [account], pending(step))) }, "Claim"));
  }
  const simple = (label, fn, testid) => h("button", { "data-testid": testid, onclick: () => act(label, (step) => state.wallet.send(contract, a.address, fn, [], pending(step))) }, label);
  if (a.phase === "Locked") actions.append(simple("Mature", "mature", "mature"));
  if (a.phase === "Matured" && a.now > a.deadline) actions.append(simple("Declare default", "declareDefault", "declare-default"));
  if (isModeller) {
    const box = h("div", { class: "modeller", "data-testid": "modeller-actions" }, h("h3", {}, "Your agreement (modeller)"));
    if (a.phase === "Open") {
      const needed = BigInt(a.required_reserve) - BigInt(a.reserve);
      if (needed > 0n) box.append(h("button", { "data-testid": "post-reserve", onclick: () => act("Post reserve", async (step) => {
        await state.wallet.approve(a.address, needed, step);
        await state.wallet.send(contract, a.address, "postReserve", [needed], pending(step));
      }) }, `Post reserve ${nmr(needed)}`));
      box.append(simple("Lock", "lock", "lock"), simple("Cancel", "cancel", "cancel"));
    }
    if (a.phase === "Matured" && BigInt(a.outstanding) > 0n) {
      box.append(h("button", { "data-testid": "repay", onclick: () => act("Repay", async (step) => {
        const due = BigInt(a.outstanding);
        await state.wallet.approve(a.address, due, step);
        await state.wallet.send(contract, a.address, "repay", [due], pending(step));
      }) }, `Repay ${nmr(a.outstanding)}`));
    }
    actions.append(box);
  }
  if (!account) actions.append(h("p", { class: "muted" }, "Connect your wallet to deposit or claim."));
  page.push(h("h2", {}, "Act"), actions);
  return page;
}

// -------------------------------------------------------------------------------------------- series

async function seriesListPage(params) {
  const rows = await api("/api/series?" + params);
  return [
    h("h1", {}, "Series"),
    h("p", { class: "muted" }, "A series chains a modeller's agreements for one model: positions keep a high-water mark and may roll into the next agreement."),
    h("div", { class: "cards", "data-testid": "series-list" },
      rows.length ? rows.map((x) => h("a", { class: "card", href: `#/series/${x.address}`, "data-testid": "series-row", "data-address": x.address },
        h("div", { class: "row" }, h("strong", {}, `model ${x.model.slice(0, 8)}`), h("span", { class: "phase" }, x.latest ? `agreement ${x.latest.index}: ${x.latest.phase}` : "no agreement")),
        h("div", {}, "price ", amount(x.price), ` · ${x.agreements} agreements`, x.taking_deposits ? " · taking deposits" : "", x.ended ? " · ended" : ""),
      )) : h("p", { "data-testid": "no-series" }, "No series in this deployment.")),
  ];
}

function seriesWhen(r) {
  if (r.phase === "Open" && r.open_until) return `deposits until ${utc(r.open_until)}`;
  if (r.phase === "Locked" && r.end_round) return `rounds ${r.start_round}-${r.end_round}`;
  if (r.phase === "Matured" && r.deadline) return `repay by ${utc(r.deadline)}`;
  return "";
}

async function seriesPage(address, params) {
  const account = state.wallet?.account;
  const units = params.get("units") || "";
  const s = await api(`/api/series/${address}?` + new URLSearchParams({ units, ...(account ? { backer: account } : {}) }));
  const latest = s.agreements[s.agreements.length - 1];
  const page = [
    h("h1", {}, `Series ${short(s.address)}`),
    h("div", { class: "facts" },
      fact("model", modelLink(s.model)),
      fact("modeller", h("span", { title: s.modeller }, short(s.modeller)), ` · ${s.record.attested ? "attested" : "not attested"} · ${s.record.modeller_defaults} defaults`),
      fact("price (per unit of capital, 1 at the start)", amount(s.price, "series-price")),
      fact("clawback escrow", amount(s.escrow))),
    h("h2", {}, "The model's posted rounds"),
    chart(s.record),
    h("h2", {}, "Agreements"),
    h("table", { class: "table", "data-testid": "series-agreements" },
      h("tr", {}, h("th", {}, "#"), h("th", {}, "phase"), h("th", {}, "capital"), h("th", {}, "reserve"), h("th", {}, "when"), h("th", {}, "terms")),
      s.agreements.map((r) => h("tr", { "data-testid": "series-agreement" }, h("td", {}, String(r.index)), h("td", {}, r.phase), h("td", {}, amount(r.capital, "series-capital"), r.capacity ? [" of ", amount(r.capacity)] : ""), h("td", {}, amount(r.reserve, "series-agreement-reserve")), h("td", {}, seriesWhen(r)), h("td", {}, r.words)))),
  ];
  if (s.what_if) {
    page.push(h("h2", {}, `What a backer receives from agreement ${s.what_if.index}`),
      h("form", { class: "inline", onsubmit: (e) => { e.preventDefault(); location.hash = `#/series/${s.address}?units=${$("[name=units]", e.target).value}`; } },
        h("label", {}, "units ", h("input", { name: "units", type: "number", min: "1", value: s.what_if.units, "data-testid": "series-what-if-units" })),
        h("button", { type: "submit" }, "Show")),
      h("table", { class: "table", "data-testid": "series-what-if" },
        h("tr", {}, h("th", {}, "the stake ends at"), h("th", {}, "you pay"), h("th", {}, "you receive")),
        s.what_if.rows.map((row) => h("tr", {}, h("td", {}, `×${row.ratio}`), h("td", {}, amount(row.paid_in)), h("td", {}, amount(row.receives, "series-receives"))))),
      h("p", { class: "muted" }, "A fresh position beside the others' capital as it stands, repaid in full, by the reference series model; a rolled position with a higher mark pays less fee."));
  }
  const actions = h("div", { class: "actions", "data-testid": "series-actions" });
  const send = (fn, args) => (step) => state.wallet.send("BackingSeries", s.address, fn, args, pending(step));
  if (latest && latest.phase === "Open" && latest.unit_size) {
    const input = h("input", { type: "number", min: "1", value: "1", "data-testid": "series-deposit-units" });
    const options = [0, ...((latest.terms && latest.terms.commitments) || []).map((c) => Number(c.agreements))];
    const commit = h("select", { "data-testid": "series-commit" }, options.map((n) => h("option", { value: String(n) }, n ? `commit to ${n} agreements` : "no commitment")));
    const units = () => {
      const n = BigInt(input.value || "0");
      if (n <= 0n) throw new WalletError("give a whole number of units, at least 1");
      return n;
    };
    actions.append(h("div", { class: "inline" }, input, commit,
      h("button", { "data-testid": "series-deposit", onclick: () => act(`Deposit ${input.value} units into agreement ${latest.index}`, async (step) => {
        const n = units();
        await state.wallet.approve(s.address, n * BigInt(latest.unit_size), step);
        await state.wallet.send("BackingSeries", s.address, "deposit", [n, BigInt(commit.value)], pending(step));
      }) }, "Approve and deposit"),
      s.backer && s.backer.positions.some((p) => p.agreement === latest.index) ? h("button", { "data-testid": "series-withdraw", onclick: () => act(`Withdraw ${input.value} units`, (step) => send("withdraw", [units(), BigInt(commit.value)])(step)) }, "Withdraw") : null));
  }
  const ZERO32 = "0x" + "00".repeat(32);
  const ALL = 2n ** 256n - 1n;
  if (s.backer) {
    const finished = ["Settled", "Defaulted", "Cancelled"];
    const nextHash = (p) => (s.agreements[p.agreement + 1] ? s.agreements[p.agreement + 1].terms_hash : ZERO32);
    const nextOpen = (p) => s.agreements.slice(p.agreement + 1).some((x) => x.phase === "Open");
    const positionActions = (p) => {
      if (p.done) return "claimed";
      const buttons = [];
      if (finished.includes(p.phase)) buttons.push(h("button", { "data-testid": `series-claim-${p.position}`, onclick: () => act(`Claim position #${p.position}`, send("claim", [BigInt(p.position)])) }, "Claim"));
      if (p.phase === "Settled" && nextOpen(p)) buttons.push(h("button", { "data-testid": `series-roll-${p.position}`, onclick: () => act(`Roll position #${p.position}`, send("roll", [BigInt(p.position), ALL, 0n, nextHash(p)])) }, "Roll into the next agreement"));
      if (!finished.includes(p.phase)) {
        buttons.push(p.consent === "none"
          ? h("button", { "data-testid": `series-consent-${p.position}`, onclick: () => act(`Consent to roll position #${p.position}`, send("roll", [BigInt(p.position), ALL, 0n, nextHash(p)])) }, "Consent to roll")
          : h("button", { "data-testid": `series-revoke-${p.position}`, onclick: () => act(`Revoke position #${p.position}'s consent`, send("roll", [BigInt(p.position), 0n, 0n, ZERO32])) }, "Revoke consent"));
      }
      if (p.phase === "Locked") {
        const to = h("input", { placeholder: "to 0x…", "data-testid": `series-transfer-to-${p.position}` });
        const nmrAmount = h("input", { placeholder: "NMR", size: "6", "data-testid": `series-transfer-amount-${p.position}` });
        buttons.push(h("span", { class: "inline" }, to, nmrAmount, h("button", { "data-testid": `series-transfer-${p.position}`, onclick: () => act(`Transfer from position #${p.position}`, (step) => {
          let wei;
          try { wei = parseUnits(nmrAmount.value.trim(), 18); } catch { throw new WalletError("give the NMR amount to transfer, e.g. 10 or 2.5"); }
          return send("transfer", [BigInt(p.position), to.value.trim(), wei])(step);
        }) }, "Transfer")));
      }
      return buttons;
    };
    actions.append(s.backer.positions.length ? h("table", { class: "table", "data-testid": "series-positions" },
      h("tr", {}, h("th", {}, "position"), h("th", {}, "agreement"), h("th", {}, "capital"), h("th", {}, "claimable"), h("th", {}, "consent to roll"), h("th", {}, "")),
      s.backer.positions.map((p) => h("tr", { "data-testid": "series-position", "data-position": String(p.position) }, h("td", {}, `#${p.position}`), h("td", {}, `${p.agreement} (${p.phase})`), h("td", {}, amount(p.capital, "series-position-capital")), h("td", {}, amount(p.claimable, "series-position-claimable")), h("td", { "data-testid": "series-position-consent" }, p.consent), h("td", {}, positionActions(p)))))
      : h("p", {}, "You hold no position in this series."));
    const from = h("input", { placeholder: "seller 0x…", "data-testid": "series-accept-from" });
    actions.append(h("div", { class: "inline" }, "Accept positions transferred to you by ", from,
      h("button", { "data-testid": "series-accept", onclick: () => act("Accept transfers", send("acceptTransfers", [from.value.trim(), true])) }, "Accept")));
  } else actions.append(h("p", { class: "muted" }, "Connect your wallet to deposit or claim."));
  if (account && account.toLowerCase() === s.modeller.toLowerCase()) {
    const box = h("div", { class: "modeller", "data-testid": "series-modeller-actions" }, h("h3", {}, "Your series (modeller)"));
    const live = s.agreements.find((x) => x.phase === "Locked" || x.phase === "Matured");
    if (latest && latest.phase === "Open") {
      const missing = BigInt(latest.required_reserve || "0") - BigInt(latest.reserve);
      box.append(h("p", {}, `Agreement ${latest.index}: reserve posted `, amount(latest.reserve, "series-reserve"), ", needed to lock now ", amount(latest.required_reserve || "0", "series-required-reserve")));
      if (missing > 0n) box.append(h("button", { "data-testid": "series-post-reserve", onclick: () => act(`Post the reserve of agreement ${latest.index}`, async (step) => {
        await state.wallet.approve(s.address, missing, step);
        await state.wallet.send("BackingSeries", s.address, "postReserve", [BigInt(latest.index), missing], pending(step));
      }) }, "Approve and post the reserve"));
      if (!live) box.append(h("button", { "data-testid": "series-lock", onclick: () => act(`Lock agreement ${latest.index}`, send("lock", [])) }, "Lock"));
      box.append(h("button", { "data-testid": "series-cancel", onclick: () => act(`Cancel agreement ${latest.index}`, send("cancel", [])) }, "Cancel"));
    } else if (!s.ended) {
      box.append(h("a", { href: `#/create?kind=series&series=${s.address}`, "data-testid": "series-open-next" }, "Open the next agreement"));
    }
    if (live && live.phase === "Matured" && BigInt(live.outstanding || "0") > 0n) {
      box.append(h("p", {}, `Agreement ${live.index} owes `, amount(live.outstanding, "series-outstanding")), h("button", { "data-testid": "series-repay", onclick: () => act(`Repay agreement ${live.index}`, async (step) => {
        await state.wallet.approve(s.address, BigInt(live.outstanding), step);
        await state.wallet.send("BackingSeries", s.address, "repay", [BigInt(live.index), BigInt(live.outstanding)], pending(step));
      }) }, "Approve and repay"));
    }
    if (BigInt(s.modeller_credit) > 0n) box.append(h("button", { "data-testid": "series-collect", onclick: () => act("Collect", send("collect", [])) }, "Collect ", amount(s.modeller_credit)));
    actions.append(box);
  }
  const locked = s.agreements.find((x) => x.phase === "Locked");
  if (locked && account) actions.append(h("button", { "data-testid": "series-mature", onclick: () => act(`Mature agreement ${locked.index}`, send("mature", [BigInt(locked.index)])) }, `Mature agreement ${locked.index}`));
  page.push(h("h2", {}, "Act"), actions, h("p", { class: "muted" }, "Executing others' consented rolls, operators and default declarations: `backing series` on the command line (docs/series.md)."));
  return page;
}

// -------------------------------------------------------------------------------------------- one model

const modelLink = (model) => h("a", { href: `#/model/${model}`, "data-testid": "model-link" }, model);
const utc = (seconds) => new Date(seconds * 1000).toISOString().replace(".000", "").replace("T", " ").replace("Z", " UTC");
const roundList = (rounds) => (rounds.length ? rounds.join(", ") : "none");

function commitmentsBlock(m) {
  if (!m.commitment_log) return [h("p", { class: "muted", "data-testid": "commitments-summary" }, "This deployment has no SubmissionLog.")];
  const c = m.commitments;
  const parts = [h("p", { "data-testid": "commitments-summary" }, c.summary), h("p", { "data-testid": "commitments-promise" }, `${c.expected_words[0].toUpperCase()}${c.expected_words.slice(1)}.`)];
  if (c.record) {
    parts.push(h("div", { class: "facts" },
      fact("committed in time", h("span", { "data-testid": "committed-rounds" }, roundList(c.record.committed))),
      fact("late", h("span", { "data-testid": "late-rounds" }, roundList(c.record.late))),
      fact("missed", h("span", { "data-testid": "missed-rounds" }, roundList(c.record.missed))),
      fact("still open", h("span", { "data-testid": "open-rounds" }, roundList(c.record.open)))));
    parts.push(h("table", { class: "table", "data-testid": "commitments" },
      h("tr", {}, h("th", {}, "round"), h("th", {}, "predictions hash"), h("th", {}, "by"), h("th", {}, "at")),
      c.list.map((x) => h("tr", { "data-testid": "commitment" }, h("td", {}, String(x.round)), h("td", { class: "hash", "data-testid": "commitment-hash" }, x.hash), h("td", { title: x.committer }, short(x.committer)), h("td", {}, `${utc(x.time)}${x.in_time ? "" : " (late)"}`)))));
  }
  if (c.ignored) parts.push(h("p", { class: "muted", "data-testid": "commitments-ignored" }, `${c.ignored} commitment(s) by other keys, or repeated for a round, are ignored (only the modeller's or his agent's first one counts).`));
  parts.push(h("p", { class: "muted" }, "Check a revealed file against its commitment: `backing submission verify FILE --model UUID --round N`; compare rounds: `backing consistency` (docs/backer.md)."));
  return parts;
}

async function modelPage(model) {
  const m = await api(`/api/models/${model}`);
  const finals = m.rounds.filter((r) => !r.missed);
  return [
    h("h1", {}, `Model ${m.model}`),
    h("div", { class: "facts" },
      fact("modeller", h("span", { title: m.modeller, "data-testid": "model-modeller" }, m.modeller)),
      fact("attested", h("span", { "data-testid": "model-attested" }, m.attested ? "yes: the oracle's signers checked his Numerai profile" : "no")),
      m.modeller_change && fact("modeller change", h("span", { "data-testid": "model-modeller-change" }, `the oracle's signers proposed ${m.modeller_change.to}, executable from ${utc(m.modeller_change.executable_at)}: agreements and series made before keep ${short(m.modeller)}`)),
      fact("the modeller's defaults", h("span", { "data-testid": "model-defaults" }, String(m.modeller_defaults))),
      fact("rounds posted", h("span", { "data-testid": "model-rounds" }, finals.length ? `${finals.length} final (rounds ${m.first_round}-${m.last_final_round})` : "none final yet"))),
    h("h2", {}, "Posted rounds"),
    chart(m),
    h("h2", {}, "Agreements"),
    m.agreement_rows.length ? h("table", { class: "table", "data-testid": "model-agreements" },
      h("tr", {}, h("th", {}, "agreement"), h("th", {}, "phase"), h("th", {}, "units sold / capacity")),
      m.agreement_rows.map((a) => h("tr", {}, h("td", {}, h("a", { href: `#/agreement/${a.address}` }, short(a.address))), h("td", {}, a.phase), h("td", {}, `${a.units} / ${a.capacity_units}`))))
      : h("p", {}, "No agreement for this model."),
    h("h2", {}, "Series"),
    m.series.length ? h("table", { class: "table", "data-testid": "model-series" },
      h("tr", {}, h("th", {}, "series"), h("th", {}, "agreements"), h("th", {}, "latest")),
      m.series.map((s) => h("tr", {}, h("td", {}, h("a", { href: `#/series/${s.address}` }, short(s.address))), h("td", {}, String(s.agreements)), h("td", {}, s.latest ? `agreement ${s.latest.index}: ${s.latest.phase}` : "none"))))
      : h("p", {}, "No series for this model."),
    h("h2", {}, "Predictions commitments"),
    ...commitmentsBlock(m),
  ];
}

// -------------------------------------------------------------------------------------------- positions

async function positionsPage() {
  if (!state.wallet?.account) return [h("h1", {}, "Your positions"), h("p", {}, "Connect your wallet to see your positions.")];
  const rows = await api(`/api/positions/${state.wallet.account}`);
  return [
    h("h1", {}, "Your positions"),
    rows.length ? h("table", { class: "table", "data-testid": "positions" },
      h("tr", {}, h("th", {}, "agreement"), h("th", {}, "phase"), h("th", {}, "units"), h("th", {}, "paid in"), h("th", {}, "claimable")),
      rows.map((p) => h("tr", { "data-testid": "position-row" }, h("td", {}, h("a", { href: `#/agreement/${p.agreement}` }, short(p.agreement))), h("td", {}, p.phase), h("td", {}, String(p.units)), h("td", {}, amount(p.paid_in, "paid-in")), h("td", {}, amount(p.claimable, "position-claimable"), p.claimed ? " (claimed)" : ""))))
      : h("p", { "data-testid": "no-positions" }, "This account holds no position."),
  ];
}

// -------------------------------------------------------------------------------------------- the modeller's form

const TERMS_FIELDS = [
  ["model_id", "model UUID", ""],
  ["unit_size", "unit size (NMR)", "100"],
  ["min_units", "min units to lock", "2"],
  ["max_units", "capacity (units)", "20"],
  ["profit_share", "your share of gains", "0.5"],
  ["burn_share", "your share of losses", "0.5"],
  ["reserve_ratio", "reserve ratio", "0.5"],
  ["upfront_fee", "upfront fee", "0.01"],
  ["lockup_rounds", "lockup (rounds)", "12"],
  ["open_for", "open for", "7d"],
  ["wind_down", "wind down", "7d"],
  ["staking_address", "staking address", ""],
  ["fee_ladder", "fee ladder (min units:share, …)", ""],
  ["require_attested_model", "only while the oracle attests the model is mine (checked at creation and at lock)", ""],
];

const SERIES_FIELDS = [
  ["clawback_share", "clawback: share of each profit fee held (e.g. 0.25)", ""],
  ["clawback_agreements", "clawback: agreements it covers", ""],
  ["commitments", "commitment options (agreements:share, …)", ""],
];

function createPage(params) {
  const account = state.wallet?.account || "";
  const kind = params.get("kind") === "series" ? "series" : "agreement";
  const intoSeries = kind === "series" ? params.get("series") : null;
  const fields = kind === "series" ? [...TERMS_FIELDS, ...SERIES_FIELDS] : TERMS_FIELDS;
  const label = intoSeries ? "Open the next agreement" : kind === "series" ? "Create the series" : "Create the agreement";
  const checked = { result: null };
  const preview = h("div", { "data-testid": "terms-preview" });
  const form = h("form", { class: "terms", "data-testid": "terms-form", oninput: () => schedule(), onsubmit: (e) => { e.preventDefault(); create(); } },
    h("input", { type: "hidden", name: "kind", value: kind }),
    fields.map(([name, text, value]) => h("label", { "data-field": name }, text,
      name === "require_attested_model"
        ? h("input", { name, type: "checkbox", "data-testid": `field-${name}` })
        : h("input", { name, value: name === "staking_address" ? account : value, "data-testid": `field-${name}` }),
      h("span", { class: "field-error", "data-testid": `error-${name}` }))),
    h("button", { type: "submit", "data-testid": "create", disabled: true }, label));
  let timer;
  const schedule = () => { clearTimeout(timer); timer = setTimeout(check, 250); };
  async function check() {
    const body = Object.fromEntries(new FormData(form));
    const result = await api("/api/terms/check", body);
    checked.result = result;
    for (const [name] of fields) $(`[data-testid=error-${name}]`, form).textContent = result.errors[name] || "";
    $("[data-testid=create]", form).disabled = !result.ok;
    form.dataset.checked = result.ok ? "ok" : "refused";
    preview.replaceChildren();
    if (result.ok) {
      preview.append(
        h("p", {}, `Backers of ${result.preview_units} units (the minimum to lock) would receive, repaid in full:`),
        h("table", { class: "table", "data-testid": "preview" }, result.preview.map((row) => h("tr", {}, h("td", {}, `stake ends at ×${row.ratio}`), h("td", {}, amount(row.receives, "preview-receives"))))),
        h("p", {}, "Reserve you must post to lock at the minimum: ", amount(result.required_reserve_at_min)),
        result.notes.map((n) => h("p", { class: "muted" }, `Note: ${n}.`)));
    }
  }
  // Terms: model id, ten uints, the staking address, the attestation flag
  const uints = (terms) => terms.map((x, i) => (i === 0 || i === 11 ? x : i === 12 ? Boolean(x) : BigInt(x)));
  async function create() {
    const result = checked.result;
    if (!result || !result.ok) return;
    await act(label, async (step) => {
      if (result.modeller.toLowerCase() !== state.wallet.account.toLowerCase()) {
        throw new WalletError(`the model is registered to ${result.modeller}, not to your account ${state.wallet.account}`);
      }
      if (kind === "agreement") {
        const ladder = result.ladder.map(([m, b]) => [BigInt(m), BigInt(b)]);
        const receipt = await state.wallet.send("AgreementFactory", state.config.contracts.AgreementFactory, "createAgreement", [uints(result.terms), ladder], pending(step));
        const topic = receipt.logs.find((l) => l.address.toLowerCase() === state.config.contracts.AgreementFactory.toLowerCase());
        if (topic) location.hash = `#/agreement/0x${topic.topics[1].slice(26)}`;
        return;
      }
      let series = intoSeries;
      if (!series) {
        const factory = state.config.contracts.SeriesFactory;
        if (!factory) throw new WalletError("this deployment has no SeriesFactory: run `backing deploy` again to add it");
        const receipt = await state.wallet.send("SeriesFactory", factory, "createSeries", [result.terms[0]], pending(step));
        const created = receipt.logs.find((l) => l.address.toLowerCase() === factory.toLowerCase());
        series = `0x${created.topics[1].slice(26)}`;
        step(`series ${series} created; opening its first agreement`);
      }
      const o = result.open_args;
      await state.wallet.send("BackingSeries", series, "openAgreement", [uints(o.terms), o.ladder.map(([m, b]) => [BigInt(m), BigInt(b)]), BigInt(o.clawback_bps), BigInt(o.clawback_agreements), o.commitments.map(([a, b]) => [BigInt(a), BigInt(b)])], pending(step));
      location.hash = `#/series/${series}`;
    });
  }
  setTimeout(check, 0);
  const switchKind = kind === "series"
    ? h("p", {}, intoSeries ? `The next agreement of series ${short(intoSeries)}. ` : "A series chains your agreements for one model (high-water marks, rolls). ", h("a", { href: "#/create" }, "Offer a single agreement instead"))
    : h("p", {}, h("a", { href: "#/create?kind=series", "data-testid": "offer-series" }, "Offer a series instead"), " (agreements chained for one model, with high-water marks and rolls).");
  const title = kind === "series" ? (intoSeries ? "Open the next agreement of your series" : "Offer a series") : "Offer an agreement";
  return [h("h1", {}, title), switchKind, h("p", { class: "muted" }, "Checked as you type by the contract's rules (backing/model/terms.py)."), form, preview];
}

// -------------------------------------------------------------------------------------------- routing

async function route() {
  const [path, query] = (location.hash.slice(1) || "/").split("?");
  const params = new URLSearchParams(query || "");
  const main = $("#main");
  const hash = location.hash;
  delete main.dataset.hash;
  try {
    let content;
    if (path.startsWith("/agreement/")) content = await agreementPage(path.split("/")[2], params);
    else if (path.startsWith("/model/")) content = await modelPage(path.split("/")[2]);
    else if (path === "/positions") content = await positionsPage();
    else if (path === "/series") content = await seriesListPage(params);
    else if (path.startsWith("/series/")) content = await seriesPage(path.split("/")[2], params);
    else if (path === "/create") content = createPage(params);
    else content = await listPage(params);
    if (location.hash !== hash) return; // the address changed while this page loaded: a newer route shows it
    main.replaceChildren(...content);
    main.dataset.page = path.split("/")[1] || "list";
  } catch (error) {
    main.replaceChildren(h("p", { class: "status error", "data-testid": "page-error" }, error.message));
  }
  if (location.hash === hash) main.dataset.hash = hash; // the page shown is the one asked for (tests wait on it)
}

async function start() {
  state.config = await api("/api/config");
  $("#chain").textContent = `chain id ${state.config.chain_id}`;
  renderWallet();
  window.addEventListener("hashchange", route);
  await route();
}

start();
