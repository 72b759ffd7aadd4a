"""Stateful test of the ScoreOracle: random sequences of announcements, k-of-n signed reports (valid and invalid),
disputes by a watcher and by a signer, resolutions, expired disputes, finalization, the liveness fallback and an
agreement maturing and defaulting on it, with time moved to either side of every window's edge.

The oracle: three signer keys, quorum 2, dispute quorum 3 (as the fixtures and the shipped deployment have it),
`outsider` as a watcher, one signer key that also sends transactions (to dispute), three models with different
exposures and first rounds. Each rule sends its transaction, reads the block it ran in, and only then asks
``OracleRules`` (below: the contract's checks and state, with the round return and the cumulative index taken
from the reference, ``backing.model.agreement.round_return``/``next_index``) what should have happened at that
second: the same custom error (by name), or success with the same state. So a transaction one second either side
of an edge is checked against the rule at the second it really ran.

After every step, invariants read from the chain alone (the reference could share a bug):

- the oracle holds, to the wei, the sum of the open dispute bonds (read from ``reportOf``), and no ETH;
- NMR is conserved: the parties' balances sum to what they held at the start;
- a final round's cumulative index never changes, starts at 1.0 and falls by at most MIN_GROWTH's factor in a
  round; lastFinal and lastPosted never go back;
- ``settlementIndices`` returns indices of final rounds only (``indexAt`` of a final round, never a pending one);
- ``defaultsOf`` in the deployment's ModellerRecord counts the agreement's default, once.

And in the rules: no single signer key posts, moves a report or resolves a dispute (refused, and the report on
chain unchanged); a dispute resolved with another report returns the bond to the disputer, an identical one and an
expired dispute send it to BOND_SINK and nowhere else (balance deltas of disputer, sink and oracle); an expired
dispute leaves the disputed report standing.

Equality with the reference after every step: each model's lastPosted, lastFinal, every final index (to the wei,
``next_index`` from 1e18), each pending report's hash, return, finality time, disputer and bond; the agreement's
phase, balance and final value (``Agreement`` of backing.model.agreement).
"""

import copy
from dataclasses import dataclass, field, replace

from brownie import accounts, chain, web3
from brownie.exceptions import VirtualMachineError
from brownie.test import strategy
from eth_account import Account

from backing.errors import revert_error
from backing.model.agreement import MIN_GROWTH, ONE, Agreement, ContractError, Phase, next_index, round_return
from backing.onchain.oracle import signer_keys
from oracle import typed_data as td
from oracle.typed_data import Report
from support import fuzz
from support.chain import MODEL_ID, NMR, set_allowance
from support.reads import read_many

DAY = 86400
SINK = "0x000000000000000000000000000000000000dEaD"
DISPUTED = 2**64 - 1
RET, CORR, MMC = td.to_bytes32("RET"), td.to_bytes32("CORR20"), td.to_bytes32("MMC")
MODEL_B = (0xB0B).to_bytes(32, "big")
MODEL_C = (0xC0C).to_bytes(32, "big")
UNREGISTERED = (0xDEAD).to_bytes(32, "big")
STATS = {}  # paths taken and refusals seen, by name (cumulative: make fuzz reports them)


def _stat(name):
    STATS[name] = STATS.get(name, 0) + 1


# ---------------------------------------------------------------------------------------------- the rules


@dataclass
class ModelState:
    exposure: int
    first_round: int
    last_posted: int
    last_final: int
    returns: dict = field(default_factory=dict)  # round -> round return (posted rounds)
    missed: dict = field(default_factory=dict)
    report_hash: dict = field(default_factory=dict)
    final_at: dict = field(default_factory=dict)  # DISPUTED while disputed
    disputes: dict = field(default_factory=dict)  # round -> (disputer, disputed_at, bond)
    index: dict = field(default_factory=dict)  # final rounds (and first_round - 1) -> cumulative index


class OracleRules:
    """What ScoreOracle does, for the statements the machine sends: its checks in its order, its state. The round
    return is ``round_return`` and the index ``next_index`` (backing.model.agreement), never re-derived here."""

    def __init__(self, params: dict, signers: set, models: dict):
        self.p = params
        self.signers = signers  # lower-case addresses
        self.models = models  # bytes32 -> ModelState
        self.current_round = params["current_round"]
        self.close_times = dict(params["close_times"])
        self.first_announced = params["first_announced"]
        self.watchers = params["watchers"]

    # -- statements
    def verify(self, digest: bytes, deadline: int, signatures, required: int, now: int):
        if now > deadline:
            raise ContractError("SignatureExpired", deadline)
        if len(signatures) < required:
            raise ContractError("QuorumNotMet", len(signatures), required)
        previous = 0
        for i, sig in enumerate(signatures):
            signer = Account._recover_hash(digest, signature=sig)
            if signer.lower() not in self.signers:
                raise ContractError("NotSigner", i, signer)
            if int(signer, 16) <= previous:
                raise ContractError("SignersNotAscending", i)
            previous = int(signer, 16)

    def checked_return(self, r: Report) -> int:
        if r.tournament != self.p["tournament"]:
            raise ContractError("WrongTournament", r.tournament, self.p["tournament"])
        if r.missed:
            if r.scores or r.score_names or r.multipliers:
                raise ContractError("MissedRoundWithScores")
            return 0
        return round_return(
            list(r.scores),
            list(r.multipliers),
            r.payout_factor,
            r.clip,
            self.p["max_clip"],
            self.p["max_multiplier"],
            names=list(r.score_names),
        )

    def announce(self, first: int, close_times, digest, deadline, sigs, now):
        self.verify(digest, deadline, sigs, self.p["quorum"], now)
        if not close_times:
            raise ContractError("NoCloseTimes")
        if first != self.current_round + 1:
            raise ContractError("RoundNotNextAnnouncement", first, self.current_round + 1)
        close = self.close_times[self.current_round]
        round_ = first
        for t in close_times:
            earliest = close + self.p["min_round_spacing"]
            if t < earliest:
                raise ContractError("CloseTimeTooEarly", t, earliest)
            if t > now + 365 * DAY:
                raise ContractError("CloseTimeTooLate", t, now + 365 * DAY)
            self.close_times[round_] = t
            close = t
            round_ += 1
        self.current_round = round_ - 1

    def post(self, reports, digest, deadline, sigs, now):
        if not reports:
            raise ContractError("NoReports")
        self.verify(digest, deadline, sigs, self.p["quorum"], now)
        for r in reports:
            m = self.models.get(r.model_id)
            if m is None:
                raise ContractError("ModelNotRegistered", r.model_id)
            if r.round != m.last_posted + 1:
                raise ContractError("RoundNotNext", r.model_id, r.round, m.last_posted + 1)
            if r.round > self.current_round:
                raise ContractError("RoundNotAnnounced", r.round, self.current_round)
            value = self.checked_return(r)
            m.last_posted = r.round
            m.returns[r.round], m.missed[r.round] = value, r.missed
            m.report_hash[r.round] = r.struct_hash()
            m.final_at[r.round] = now + self.p["challenge_window"]

    def dispute(self, model_id, round_, sender: str, now):
        if sender.lower() not in self.signers and sender.lower() not in self.watchers:
            raise ContractError("NotSignerOrWatcher", sender)
        m = self.models.get(model_id) or ModelState(0, 1, 0, 0)
        if round_ <= m.last_final or round_ > m.last_posted:
            raise ContractError("RoundNotPending", model_id, round_)
        if m.final_at[round_] == DISPUTED:
            raise ContractError("AlreadyDisputed", model_id, round_)
        if now >= m.final_at[round_]:
            raise ContractError("ChallengeWindowOver", model_id, round_, m.final_at[round_])
        m.final_at[round_] = DISPUTED
        m.disputes[round_] = (sender.lower(), now, self.p["bond"])

    def resolve(self, replacement: Report, disputed_hash, digest, deadline, sigs, now):
        """Returns (disputer, bond, returned to the disputer)."""
        m = self.models.get(replacement.model_id)
        if m is None or m.final_at.get(replacement.round) != DISPUTED:
            raise ContractError("NotDisputed", replacement.model_id, replacement.round)
        self.verify(digest, deadline, sigs, self.p["dispute_quorum"], now)
        value = self.checked_return(replacement)
        disputer, _, bond = m.disputes.pop(replacement.round)
        new_hash = replacement.struct_hash()
        returned = new_hash != m.report_hash[replacement.round]
        m.report_hash[replacement.round] = new_hash
        m.final_at[replacement.round] = now
        m.returns[replacement.round], m.missed[replacement.round] = value, replacement.missed
        return disputer, bond, returned

    def expire(self, model_id, round_, now):
        m = self.models.get(model_id)
        if m is None or m.final_at.get(round_) != DISPUTED:
            raise ContractError("NotDisputed", model_id, round_)
        disputer, at, bond = m.disputes[round_]
        if now < at + self.p["dispute_timeout"]:
            raise ContractError("DisputeTimeoutNotOver", at + self.p["dispute_timeout"])
        del m.disputes[round_]
        m.final_at[round_] = now
        return disputer, bond

    def finalize(self, model_id, max_rounds, now):
        m = self.models.get(model_id)
        if m is None:
            raise ContractError("ModelNotRegistered", model_id)
        done = []
        r = m.last_final
        while len(done) < max_rounds and r < m.last_posted:
            if m.final_at[r + 1] > now:
                break
            m.index[r + 1] = next_index(m.index[r], m.exposure, m.returns[r + 1])
            r += 1
            done.append(r)
        m.last_final = r
        return done

    # -- views
    def due_time(self, round_):
        if round_ > self.current_round:
            close = self.close_times[self.current_round] + (round_ - self.current_round) * self.p["min_round_spacing"]
        else:
            close = self.close_times[max(round_, self.first_announced)]
        return close + self.p["resolution_delay"]

    def fallback_at(self, round_):
        return self.due_time(round_) + self.p["max_report_delay"]

    def settlement(self, model_id, start, end, now):
        m = self.models[model_id]
        if start < m.first_round or end < start:
            raise ContractError("RoundNotPosted", model_id, start)
        if m.last_final >= end:
            return m.index[start - 1], m.index[end], m.last_final, True
        complete = m.last_posted == m.last_final and now >= self.fallback_at(end)
        start_from = m.last_final if m.last_final + 1 < start else start - 1
        return m.index[start_from], m.index[m.last_final], m.last_final, complete


# ---------------------------------------------------------------------------------------------- the machine


class OracleMachine:
    st_pick = strategy("uint", max_value=255)
    st_kind = strategy("uint", max_value=15)
    st_shape = strategy("uint", max_value=9)
    st_score = strategy("int", min_value=-ONE, max_value=ONE)
    st_count = strategy("uint", min_value=1, max_value=3)
    st_offset = strategy("int", min_value=-2, max_value=2)
    st_sig = strategy("uint", max_value=15)
    st_flag = strategy("bool")

    def __init__(cls, env):
        for key, value in env.items():
            setattr(cls, key, value)
        o = cls.oracle
        cls.params = dict(
            tournament=o.tournament(),
            max_clip=o.maxClip(),
            max_multiplier=o.maxMultiplier(),
            min_round_spacing=o.minRoundSpacing(),
            challenge_window=o.challengeWindow(),
            resolution_delay=o.resolutionDelay(),
            max_report_delay=o.maxReportDelay(),
            bond=o.disputeBond(),
            dispute_timeout=o.disputeTimeout(),
            quorum=o.quorum(),
            dispute_quorum=o.disputeQuorum(),
            current_round=o.currentRound(),
            close_times={r: o.roundCloseTime(r) for r in range(o.firstAnnouncedRound(), o.currentRound() + 1)},
            first_announced=o.firstAnnouncedRound(),
            watchers={str(cls.watcher).lower()},
        )
        assert (cls.params["quorum"], cls.params["dispute_quorum"], len(cls.keys)) == (2, 3, 3)
        cls.models0 = {}
        for mid in cls.model_ids:
            _, exposure, first, last_final = o.modelInfo(mid)
            m = ModelState(exposure, first, o.lastPostedRound(mid), last_final)
            m.index[last_final] = o.indexAt(mid, last_final)
            cls.models0[mid] = m
        cls.parties = [o, SINK, cls.watcher, cls.signer_account, cls.stranger, cls.modeller, cls.backer, cls.staking]
        cls.parties.append(cls.agreement)
        cls.total0 = sum(cls.token.balanceOf(p) for p in cls.parties)
        cls.defaults0 = cls.record.defaultsOf(cls.modeller)

    def setup(self):
        fuzz.count("oracle", "runs")
        self.rules = OracleRules(self.params, {k.address.lower() for k in self.keys}, copy.deepcopy(self.models0))
        self.ag = copy.deepcopy(self.agreement_model)
        self.seen_final = {mid: {} for mid in self.model_ids}  # chain-read final indices, to check they never move
        self.seen_progress = {mid: (0, 0) for mid in self.model_ids}
        self.replay_batch = None  # a posted batch's (reports, deadline, signatures)
        self.replay_resolution = None
        self.stood = {}  # (model, round) -> report hash read from the chain when it was disputed
        self.reports = {}  # (model, round) -> the Report the oracle holds (posted or the replacement)

    def teardown(self):
        _stat(f"agreement ended {self.ag.phase.name}")

    # ------------------------------------------------------------------ plumbing
    def _send(self, fn, *args, sender):
        """Send a transaction; (receipt or None, the revert or None, the timestamp of the block it ran in)."""
        try:
            tx = fn(*args, {"from": sender})
            return tx, None, tx.timestamp
        except VirtualMachineError as exc:
            return None, exc, web3.eth.get_block("latest").timestamp

    def _apply(self, what, step, exc):
        """Run `step` (the rules at the block's time) on a copy of the rules' state; the chain must have refused
        with the same error name (and then nothing changes) or accepted (and then the copy is kept)."""
        trial = copy.deepcopy(self.rules)
        try:
            result = step(trial)
        except ContractError as e:
            assert exc is not None, f"{what}: the rules refuse with {e.name}{e.args_}, the chain accepted"
            got = revert_error(exc)
            assert got is not None and got[0] == e.name, f"{what}: the rules refuse with {e.name}, the chain: {exc}"
            _stat(f"refused {e.name}")
            return False, None
        assert exc is None, f"{what}: the chain refused ({getattr(exc, 'revert_msg', exc)}), the rules accept"
        self.rules = trial
        return True, result

    def _sign(self, primary, message, keys):
        """Signatures by `keys` in the order given (not sorted: the order is part of what is tried)."""
        return [s for _, s in td.sign(self.domain, primary, message, keys)]

    def _signatures(self, primary, message, kind, required):
        """Signature sets, valid and not: (signatures, distinct signer keys in them)."""
        keys, intruder = self.keys, self.intruder  # keys ascending by address
        kind %= 9
        if kind == 0:
            chosen = keys[:required]
        elif kind == 1:
            chosen = keys
        elif kind == 2:
            chosen = keys[-required:]
        elif kind == 3:  # one key alone
            chosen = [keys[1]]
        elif kind == 4:  # one key, its signature repeated to fake a quorum
            sig = self._sign(primary, message, [keys[0]])[0]
            return [sig] * required, 1
        elif kind == 5:  # a key that is not a signer
            chosen = keys[: required - 1] + [intruder]
        elif kind == 6:  # descending order
            chosen = list(reversed(keys[:required]))
        elif kind == 7:  # signatures over another statement
            other = dict(message, deadline=message["deadline"] + 1)
            return self._sign(primary, other, keys[:required]), 0
        else:
            chosen = keys[: required - 1]
        distinct = len({k.address for k in chosen if k in keys})
        return self._sign(primary, message, chosen), distinct

    def _report(self, mid, round_, shape, score, fault=0):
        """Valid reports of several shapes; `fault` > 0 breaks one bound."""
        p = self.params
        shape %= 10
        if shape == 0:
            r = Report(mid, p["tournament"], round_, missed=True)
        elif shape in (1, 2):  # the return is the score itself
            r = Report(mid, p["tournament"], round_, False, (RET,), (score,), (ONE,), ONE, ONE)
        elif shape == 3:  # two scores, odd multipliers, payout factor and clip
            r = Report(
                mid,
                p["tournament"],
                round_,
                False,
                (CORR, MMC),
                (score // 3, -score // 7),
                (ONE // 2 + 3, 2 * ONE + 1),
                ONE - 1,
                ONE // 20 + 11,
            )
        elif shape == 4:  # clipped by a large multiplier
            r = Report(mid, p["tournament"], round_, False, (RET,), (score,), (7 * ONE,), ONE, ONE // 4)
        elif shape == 5:  # -100%: the index falls to MIN_GROWTH of itself
            r = Report(mid, p["tournament"], round_, False, (RET,), (-ONE,), (ONE,), ONE, ONE)
        elif shape == 6:  # +100% at the largest multiplier, clipped at 1
            r = Report(mid, p["tournament"], round_, False, (RET,), (ONE,), (p["max_multiplier"],), ONE, ONE)
        elif shape == 7:  # one wei of return
            r = Report(mid, p["tournament"], round_, False, (RET,), (1,), (ONE,), ONE, ONE)
        else:  # eight scores
            names = tuple(td.to_bytes32(f"S{i}") for i in range(8))
            scores = tuple((score // (i + 2)) * (-1) ** i for i in range(8))
            r = Report(mid, p["tournament"], round_, False, names, scores, (ONE // 3,) * 8, ONE // 2 + 1, ONE)
        if not fault:
            return r
        fault %= 8
        base = Report(mid, p["tournament"], round_, False, (RET, CORR), (score, score // 2), (ONE, ONE), ONE, ONE)
        if fault == 0:
            return replace(r, tournament=p["tournament"] + 1)
        if fault == 1:
            return replace(base, clip=0)
        if fault == 2:
            return replace(base, clip=p["max_clip"] + 1)
        if fault == 3:
            return replace(base, scores=(ONE + 1, 0))
        if fault == 4:
            return replace(base, multipliers=(ONE, p["max_multiplier"] + 1))
        if fault == 5:
            return replace(base, payout_factor=ONE + 1)
        if fault == 6:
            return replace(base, score_names=(RET, RET))
        return Report(mid, p["tournament"], round_, True, (RET,), (0,), (ONE,), 0, 0)  # missed, with scores

    def _model(self, pick):
        return self.model_ids[pick % len(self.model_ids)]

    def _chain_report(self, mid, round_):
        try:
            return self.oracle.reportOf(mid, round_)
        except VirtualMachineError:
            return None

    # ------------------------------------------------------------------ statements
    def _announce(self, first, times, sig_kind=0):
        deadline = chain.time() + 3600
        message = td.announcement_message(self.params["tournament"], first, times, deadline)
        sigs, distinct = self._signatures("RoundAnnouncement", message, sig_kind, 2)
        digest = td.digest(self.domain, "RoundAnnouncement", message)
        before = self.oracle.currentRound()
        tx, exc, ts = self._send(self.oracle.announceRounds, first, times, deadline, sigs, sender=self.relayer)
        ok, _ = self._apply("announce", lambda t: t.announce(first, times, digest, deadline, sigs, ts), exc)
        if distinct < 2:  # one key alone announces nothing (read from the chain)
            assert not ok and self.oracle.currentRound() == before
        if ok:
            _stat("announced")
        return ok

    def _schedule(self, count, back):
        """`count` close times after the latest announced one, the first `back` seconds ago (at the earliest the
        round spacing after the previous close)."""
        r = self.rules
        close = r.close_times[r.current_round]
        spacing = self.params["min_round_spacing"]
        times = []
        for i in range(count):
            close = max(close + spacing, chain.time() - back + i * spacing)
            times.append(close)
        return times

    def _post(self, reports, deadline, sigs, distinct, replay=False):
        digest = td.digest(self.domain, "ReportBatch", td.batch_message(reports, deadline))
        before = {rep.model_id: self._last_posted(rep.model_id) for rep in reports}
        tx, exc, ts = self._send(
            self.oracle.postReports, [x.as_tuple() for x in reports], deadline, sigs, sender=self.relayer
        )
        ok, _ = self._apply("post", lambda t: t.post(reports, digest, deadline, sigs, ts), exc)
        if distinct < 2:  # one key alone never posts: refused, nothing recorded (read from the chain)
            assert not ok and exc is not None
            assert all(self._last_posted(mid) == last for mid, last in before.items())
            _stat("one key refused: post")
        if ok:
            _stat(f"posted {len(reports)}")
            self.replay_batch = (reports, deadline, sigs)
            for rep in reports:
                self.reports[(rep.model_id, rep.round)] = rep
        elif replay:
            _stat("replay refused")
        return ok

    def _valid_batch(self, mids, count, shape, score):
        next_round = {mid: self.rules.models[mid].last_posted + 1 for mid in mids}
        reports = []
        for i in range(count):
            mid = mids[i % len(mids)]
            reports.append(self._report(mid, next_round[mid], shape + i, score // (i + 1)))
            next_round[mid] += 1
        return reports

    def _last_posted(self, mid):
        return self.oracle.lastPostedRound(mid) if mid in self.rules.models else 0

    # ------------------------------------------------------------------ rules
    def initialize_schedule(self, st_pick, st_count, st_shape, st_score):
        """Start runs with a few rounds announced (on time, or back-dated so fallbacks are due early) and posted
        for models A and B, so that short runs reach disputes, finality and the agreement's rounds."""
        back = [0, 2 * DAY, 40 * DAY][st_pick % 3]
        self._announce(self.rules.current_round + 1, self._schedule(3 + st_count, back))
        for mid, count in ((MID_A, 1 + st_count), (MODEL_B, st_count)):  # A: up to the agreement's last round
            reports = self._valid_batch([mid], count, st_shape, st_score)
            deadline = chain.time() + 3600
            sigs, distinct = self._signatures("ReportBatch", td.batch_message(reports, deadline), 0, 2)
            self._post(reports, deadline, sigs, distinct)
        if st_pick % 2:
            chain.sleep(self.params["challenge_window"])
            chain.mine()
            self.rule_finalize(0, 1, True)

    def rule_operator(self, st_pick, st_shape, st_score, st_count, st_flag):
        """The honest operator: announces what is needed, then posts the next rounds of one or two models."""
        mids = [self._model(st_pick)] + ([self._model(st_pick + 1)] if st_flag and st_count > 1 else [])
        reports = self._valid_batch(mids, st_count, st_shape, st_score)
        need = max(rep.round for rep in reports)
        if need > self.rules.current_round:
            self._announce(self.rules.current_round + 1, self._schedule(need - self.rules.current_round, st_pick))
        deadline = chain.time() + 3600
        sigs, distinct = self._signatures("ReportBatch", td.batch_message(reports, deadline), st_pick % 3, 2)
        if not self._post(reports, deadline, sigs, distinct):
            return
        if st_score % 3 == 0:  # a watcher or a signer disagrees with one of them
            self.rule_dispute(self.model_ids.index(reports[-1].model_id), st_pick, 1)
        elif st_pick % 2:
            # as a live operator does, finalizes them once their challenge window is over
            chain.sleep(self.params["challenge_window"])
            chain.mine()
            for mid in mids:
                self.rule_finalize(self.model_ids.index(mid), 1, True)

    def rule_announce(self, st_count, st_pick, st_kind, st_sig, st_offset):
        """Announce the next 1-3 rounds: on the schedule, back-dated (so the fallback can be due at once), a second
        too early, beyond the horizon, not the next round, or signed by a wrong set of keys."""
        r = self.rules
        first = r.current_round + 1 + (st_offset if st_kind == 12 else 0)
        times = self._schedule(st_count, [0, 3600, 2 * DAY, 40 * DAY][st_pick % 4])
        if st_kind == 10:  # one second too early
            times[-1] = (
                (times[-2] if len(times) > 1 else r.close_times[r.current_round]) + self.params["min_round_spacing"] - 1
            )
        if st_kind == 11:
            times[-1] = chain.time() + 365 * DAY + 1 + st_offset
        self._announce(first, times, st_sig if st_sig < 9 else 0)

    def rule_post(self, st_pick, st_kind, st_sig, st_shape, st_score, st_count, st_flag, st_offset):
        """Post a batch of 1-3 reports (one or two models) signed by the signature set `st_sig` picks; with
        `st_kind` >= 10 an expired deadline, a broken bound, a skipped round, a repeated round, an unregistered
        model or a batch posted before, sent again."""
        if st_kind == 15 and self.replay_batch is not None:
            reports, deadline, sigs = self.replay_batch
            self._post(reports, deadline, sigs, 2, replay=True)
            return
        mids = [self._model(st_pick)] + ([self._model(st_pick + 1)] if st_count > 1 and st_flag else [])
        if st_kind == 14:
            mids = [UNREGISTERED]
        r = self.rules
        reports = []
        next_round = {mid: (r.models[mid].last_posted if mid in r.models else 0) + 1 for mid in mids}
        for i in range(st_count):
            mid = mids[i % len(mids)]
            round_ = next_round[mid]
            if st_kind == 12 and i == 0:
                round_ += 1 + abs(st_offset)  # a round skipped
            if st_kind == 13 and i == 0:
                round_ -= 1  # the round posted last (or the one before the first)
            reports.append(self._report(mid, round_, st_shape + i, st_score // (i + 1)))
            next_round[mid] = round_ + 1
        if st_kind == 11:
            reports[-1] = self._report(reports[-1].model_id, reports[-1].round, 0, st_score, fault=st_shape + 1)
        deadline = chain.time() + 3600 if st_kind != 10 else chain.time() - 1 - abs(st_offset)  # 10: expired
        sigs, distinct = self._signatures(
            "ReportBatch", td.batch_message(reports, deadline), st_sig if st_sig < 9 else 0, 2
        )
        self._post(reports, deadline, sigs, distinct)

    def rule_dispute(self, st_pick, st_kind, st_offset):
        """A watcher, a signer or a stranger disputes a pending round (or a final, disputed or unposted one)."""
        mid = self._model(st_pick)
        m = self.rules.models[mid]
        pending = list(range(m.last_final + 1, m.last_posted + 1))
        round_ = pending[st_pick % len(pending)] if pending and st_offset else max(0, m.last_posted + st_offset)
        who = st_kind % 4
        sender = [self.watcher, self.signer_account, self.stranger, self.watcher][who]
        held = self._chain_report(mid, round_)
        tx, exc, ts = self._send(self.oracle.dispute, mid, round_, sender=sender)
        ok, _ = self._apply("dispute", lambda t: t.dispute(mid, round_, str(sender), ts), exc)
        if ok:
            self.stood[(mid, round_)] = bytes(held[0])
            _stat("disputed by " + ["watcher", "signer", "stranger", "watcher"][who])

    def _disputed(self, st_pick):
        """(model, round) of an open dispute, or the last posted round of a model when none is open."""
        open_ = [(mid, r) for mid in self.model_ids for r in sorted(self.rules.models[mid].disputes)]
        if open_ and st_pick % 8:
            return open_[st_pick % len(open_)]
        mid = self._model(st_pick)
        return mid, self.rules.models[mid].last_posted

    def rule_resolve(self, st_pick, st_kind, st_sig, st_shape, st_score, st_flag):
        """Resolve a dispute with another report (bond back to the disputer) or the same one (bond to BOND_SINK),
        signed by the dispute quorum, by two keys (short of it: the M-1 case), by one key alone, by a wrong set;
        an expired deadline, a broken bound, or a resolution already used, sent again."""
        mid, round_ = self._disputed(st_pick)
        held = self._chain_report(mid, round_)
        disputed_hash = bytes(held[0]) if held is not None else b"\0" * 32
        if st_kind == 15 and self.replay_resolution is not None:
            replacement, deadline, sigs = self.replay_resolution
            distinct = 3
            mid, round_ = replacement.model_id, replacement.round
            held = self._chain_report(mid, round_)
            disputed_hash = bytes(held[0])
        else:
            if st_flag and (mid, round_) in self.reports:
                replacement = self.reports[(mid, round_)]  # the disputed report itself
            else:
                replacement = self._report(mid, round_, st_shape, st_score, fault=st_shape + 1 if st_kind == 11 else 0)
            deadline = chain.time() + 3600 if st_kind != 10 else chain.time() - 1
            message = td.resolution_message(disputed_hash, replacement, deadline)
            # half the time the dispute quorum, or two keys short of it (the M-1 case: two signers never resolve)
            sig_kind = st_sig if st_sig < 8 else [0, 8, 1, 8][st_sig % 4]
            sigs, distinct = self._signatures("DisputeResolution", message, sig_kind, 3)
        digest = td.digest(
            self.domain, "DisputeResolution", td.resolution_message(disputed_hash, replacement, deadline)
        )
        balances = self._balances()
        tx, exc, ts = self._send(
            self.oracle.resolveDispute, replacement.as_tuple(), deadline, sigs, sender=self.relayer
        )
        ok, result = self._apply(
            "resolve", lambda t: t.resolve(replacement, disputed_hash, digest, deadline, sigs, ts), exc
        )
        after = self._chain_report(mid, round_)
        if distinct < 3:  # fewer keys than the dispute quorum: nothing moves (read from the chain)
            assert not ok and exc is not None
            assert (after is None and held is None) or tuple(after) == tuple(held)
            _stat("too few keys refused: resolve")
        if ok:
            disputer, bond, returned = result
            # chain-only: the bond goes to the disputer iff the report on chain changed, else to BOND_SINK
            changed = bytes(after[0]) != disputed_hash
            assert changed == returned
            self._assert_bond_went(balances, disputer if changed else SINK, bond)
            self.replay_resolution = (replacement, deadline, sigs)
            self.reports[(mid, round_)] = replacement
            _stat("resolved, bond returned" if changed else "resolved as posted, bond forfeited")

    def _pick_for(self, target, odd=False):
        """A `st_pick` that makes `_disputed` return the open dispute `target` (odd when `rule_expire` must wait
        for the timeout first)."""
        open_ = [(mid, r) for mid in self.model_ids for r in sorted(self.rules.models[mid].disputes)]
        index = open_.index(target)
        return next(p for p in range(1, 256) if p % 8 and p % len(open_) == index and (p % 2 or not odd))

    def rule_dispute_story(self, st_pick, st_shape, st_score, st_flag):
        """The M-1 story whenever it is drawn (the separate rules rarely line it up): the watcher disputes a pending
        round; two signers, short of the dispute quorum, try to resolve it and are refused with nothing moved; then
        either the dispute quorum resolves it (another report: the bond back; the same one: forfeited) or nobody
        does and, at the timeout, anyone expires it: the disputed report stands and the bond is forfeited."""
        before = {(mid, r) for mid in self.model_ids for r in self.rules.models[mid].disputes}
        self.rule_dispute(st_pick, 0, 1)  # the watcher; a pending round when the model has one
        opened = {(mid, r) for mid in self.model_ids for r in self.rules.models[mid].disputes} - before
        if not opened:
            return
        target = opened.pop()
        _stat("dispute story")
        self.rule_resolve(self._pick_for(target), 0, 9, st_shape, st_score, st_flag)  # two keys: refused
        assert target[1] in self.rules.models[target[0]].disputes
        if st_shape % 2:
            self.rule_resolve(self._pick_for(target), 0, 0, st_shape, st_score, st_flag)  # the dispute quorum
        else:
            self.rule_expire(self._pick_for(target, odd=True), 1)
        assert target[1] not in self.rules.models[target[0]].disputes

    def rule_expire(self, st_pick, st_offset):
        """Anyone ends a dispute nobody resolved once its timeout is over: the report stands, the bond is forfeit.
        Half the time the machine first waits until a second either side of the timeout."""
        mid, round_ = self._disputed(st_pick)
        dispute = self.rules.models[mid].disputes.get(round_)
        if dispute and st_pick % 2:
            chain.sleep(max(0, dispute[1] + self.params["dispute_timeout"] + st_offset - chain.time()))
            chain.mine()
        balances = self._balances()
        tx, exc, ts = self._send(self.oracle.expireDispute, mid, round_, sender=self.stranger)
        ok, result = self._apply("expire", lambda t: t.expire(mid, round_, ts), exc)
        if ok:
            disputer, bond = result
            self._assert_bond_went(balances, SINK, bond)
            # chain-only: the disputed report stands
            assert bytes(self.oracle.reportOf(mid, round_)[0]) == self.stood[(mid, round_)]
            _stat("dispute expired, report stands")

    def rule_finalize(self, st_pick, st_count, st_flag):
        mid = UNREGISTERED if st_pick == 255 else self._model(st_pick)
        max_rounds = 10_000 if st_flag else st_count - 1
        tx, exc, ts = self._send(self.oracle.finalize, mid, max_rounds, sender=self.stranger)
        ok, done = self._apply("finalize", lambda t: t.finalize(mid, max_rounds, ts), exc)
        _stat("finalize called")
        if ok:
            events = [(e["round"], e["index"]) for e in tx.events["RoundFinalized"]] if done else []
            assert events == [(r, self.rules.models[mid].index[r]) for r in done]
            if done:
                _stat("finalized")

    def rule_mature(self, st_flag):
        """The agreement (model A, rounds start..end) matures: finalizing what it can, then on the final indices or
        on the fallback once its last round is overdue with nothing pending."""
        ag = self.ag
        tx, exc, ts = self._send(self.agreement.mature, sender=self.stranger)

        def step(t):
            if ag.phase != Phase.Locked:
                raise ContractError("WrongPhase", ag.phase)
            start, end = ag.start_round, ag.end_round
            if t.models[MID_A].last_final < end:
                t.finalize(MID_A, 64, ts)
            si, ei, last_final, complete = t.settlement(MID_A, start, end, ts)
            if not complete:
                raise ContractError("RoundsOutstanding", last_final, end)
            return si, ei, last_final

        trial_ag = copy.deepcopy(ag)
        ok, result = self._apply("mature", step, exc)
        if ok:
            si, ei, last_final = result
            trial_ag.mature(ts, si, ei)
            self.ag = trial_ag
            assert ("MaturedOnFallback" in tx.events) == (last_final < ag.end_round)
            assert self.agreement.finalValue() == self.ag.matured.final_value
            _stat("matured on the fallback" if last_final < ag.end_round else "matured")
            if st_flag:  # and the modeller repays nothing: a default once the wind-down is over
                self.rule_default(True, 1)

    def rule_default(self, st_flag, st_offset):
        """After the wind-down the unpaid agreement defaults; its factory records it in the ModellerRecord."""
        if st_flag and self.ag.phase == Phase.Matured and chain.time() < self.ag.deadline + st_offset:
            chain.sleep(self.ag.deadline + st_offset - chain.time())  # to a second either side of its end
            chain.mine()
        tx, exc, ts = self._send(self.agreement.declareDefault, sender=self.stranger)
        trial = copy.deepcopy(self.ag)
        try:
            trial.declare_default(ts)
        except ContractError as e:
            assert exc is not None and revert_error(exc)[0] == e.name, (e.name, exc)
            _stat(f"refused {e.name}")
            return
        assert exc is None, exc
        self.ag = trial
        assert self.record.defaultRecorded(self.agreement)
        assert [e["vehicle"] for e in tx.events["DefaultRecorded"]] == [self.agreement.address]
        _stat("defaulted")

    def rule_sleep(self, st_pick, st_offset):
        """Move time to a second either side of a window's edge: a pending report's finality, a dispute's
        timeout, a round's fallback time, the agreement's wind-down; or a long sleep (a stalled oracle)."""
        r = self.rules
        now = chain.time()
        edges = []
        for m in r.models.values():
            edges += [t for t in m.final_at.values() if t != DISPUTED]
            edges += [at + self.params["dispute_timeout"] for _, at, _ in m.disputes.values()]
            edges.append(r.fallback_at(m.last_final + 1))
        if self.ag.phase == Phase.Locked:
            edges.append(r.fallback_at(self.ag.end_round))
        if self.ag.phase == Phase.Matured:
            edges.append(self.ag.deadline + 1)
        edges = sorted(t for t in set(edges) if t + st_offset > now)
        if edges and st_pick % 8:
            target = min(edges[st_pick % len(edges)] + st_offset, now + 60 * DAY)
        else:
            target = now + [3600, DAY, 20 * DAY, 35 * DAY][st_pick % 4]
        # the next transaction runs at (about) `target`: the rules are asked at the second it really ran
        chain.sleep(max(0, target - now - 1))
        chain.mine()

    # ------------------------------------------------------------------ helpers for the bond checks
    def _balances(self):
        parties = (self.oracle, SINK, self.watcher, self.signer_account)
        return dict(zip(map(str, parties), read_many([(self.token.balanceOf, (p,)) for p in parties])))

    def _assert_bond_went(self, before, to, bond):
        """Chain-only: exactly `bond` left the oracle and reached `to`; nobody else of them moved."""
        after = self._balances()
        for party in before:
            delta = after[party] - before[party]
            if party == str(self.oracle):
                expected = -bond
            elif party.lower() == str(to).lower():
                expected = bond
            else:
                expected = 0
            assert delta == expected, (party, delta, expected)
        _stat("bond checked")

    # ------------------------------------------------------------------ invariants
    def _read(self):
        """The whole state the invariants check, in two JSON-RPC batches (support.reads), at one block each."""
        o = self.oracle
        progress = read_many([(f, (mid,)) for mid in self.model_ids for f in (o.modelInfo, o.lastPostedRound)])
        calls = [("block", None), ("balance", o.address), (o.currentRound, ())]
        calls += [(self.token.balanceOf, (p,)) for p in self.parties]
        calls += [(self.agreement.phase, ()), (self.record.defaultsOf, (self.modeller,))]
        shape = []
        for i, mid in enumerate(self.model_ids):
            (_, _, first, last_final), last_posted = progress[2 * i], progress[2 * i + 1]
            windows = [(first, max(first, last_final)), (first, last_posted + 2), (last_final + 1, last_final + 3)]
            windows = [(s, e) for s, e in windows if s >= first]
            calls += [(o.indexAt, (mid, r)) for r in range(first - 1, last_final + 1)]
            calls += [(o.reportOf, (mid, r)) for r in range(last_final + 1, last_posted + 1)]
            calls += [(o.settlementIndices, (mid, s, e)) for s, e in windows]
            shape.append((mid, first, last_final, last_posted, windows))
        values = iter(read_many(calls))
        view = {"now": next(values), "eth": next(values), "current_round": next(values)}
        view["balances"] = [next(values) for _ in self.parties]
        view["phase"], view["defaults"] = next(values), next(values)
        view["models"] = {}
        for mid, first, last_final, last_posted, windows in shape:
            view["models"][mid] = {
                "first": first,
                "last_final": last_final,
                "last_posted": last_posted,
                "index": {r: next(values) for r in range(first - 1, last_final + 1)},
                "pending": {r: tuple(next(values)) for r in range(last_final + 1, last_posted + 1)},
                "settlement": {w: tuple(next(values)) for w in windows},
            }
        return view

    def invariant_chain_only(self):
        """Read from the chain alone: bonds held to the wei, NMR conserved, final indices fixed, progress monotone,
        settlementIndices reads final rounds only, the ModellerRecord counts the default once."""
        self.view = view = self._read()
        bonds = 0
        for mid, v in view["models"].items():
            was_final, was_posted = self.seen_progress[mid]
            assert v["last_final"] >= was_final and v["last_posted"] >= was_posted >= 0
            assert v["last_posted"] >= v["last_final"]
            self.seen_progress[mid] = (v["last_final"], v["last_posted"])
            seen = self.seen_final[mid]
            assert v["index"][v["first"] - 1] == ONE  # the index starts at 1.0 before the first round
            for r, index in v["index"].items():
                assert seen.setdefault(r, index) == index, f"final round {r} moved from {seen[r]} to {index}"
                # one round never takes the index below MIN_GROWTH (1e-6) of the one before (rounded down: four
                # -100% rounds in a row take it from 1e18 to 0, which agreements read as wiped out)
                assert r < v["first"] or index >= v["index"][r - 1] * MIN_GROWTH // ONE, (mid, r)
            bonds += sum(report[5] for report in v["pending"].values())
            finals = set(v["index"].values())
            for (start, end), (si, ei, lf, _) in v["settlement"].items():
                # the indices it gives are those of final rounds: the start's (or the last final one's) and the
                # end's (or the last final one's)
                assert lf == v["last_final"]
                assert si in finals and ei in finals, (start, end, si, ei)
                assert (si, ei) == (v["index"][min(start - 1, lf)], v["index"][min(end, lf)])
        assert view["balances"][0] == bonds, (view["balances"][0], bonds)  # parties[0] is the oracle
        assert view["eth"] == 0
        assert sum(view["balances"]) == self.total0
        assert view["defaults"] == self.defaults0 + int(view["phase"] == int(Phase.Defaulted))

    def invariant_matches_rules(self):
        """The chain equals the rules (index to the wei, by next_index) and the agreement equals the reference."""
        view = self.view
        assert view["current_round"] == self.rules.current_round
        for mid, v in view["models"].items():
            m = self.rules.models[mid]
            assert (v["last_final"], v["last_posted"]) == (m.last_final, m.last_posted)
            for r, index in v["index"].items():
                assert index == m.index[r], (mid, r, index, m.index[r])
            for r, (h, ret, missed, final_at, disputer, bond) in v["pending"].items():
                d = m.disputes.get(r, ("0x" + "00" * 20, 0, 0))
                assert (bytes(h), ret, missed, final_at) == (m.report_hash[r], m.returns[r], m.missed[r], m.final_at[r])
                assert (str(disputer).lower(), bond) == (d[0], d[2])
            for (start, end), (si, ei, lf, complete) in v["settlement"].items():
                # the view runs at the latest block's time or the second after: checked when both agree
                expected = [self.rules.settlement(mid, start, end, t) for t in (view["now"], view["now"] + 1)]
                assert (si, ei, lf) == expected[0][:3]
                if expected[0][3] == expected[1][3]:
                    assert complete == expected[0][3], (mid, start, end)
        assert view["phase"] == int(self.ag.phase)
        assert view["balances"][self.parties.index(self.agreement)] == self.ag.balance

    def invariant_zz_counted(self):
        """Counts the step for `make fuzz`'s report (runs last: hypothesis orders invariants by name)."""
        fuzz.count("oracle", "steps")
        fuzz.count("oracle", "invariant_checks", 2)


MID_A = bytes.fromhex(MODEL_ID[2:])


def test_oracle_state_machine(
    state_machine,
    oracle,
    signed,
    signers,
    nmr_token,
    nmr_factory,
    make_nmr_agreement,
    fund_nmr,
    model_id,
    deployer,
    modeller,
    staking,
    alice,
    bob,
    outsider,
    reporter,
):
    keys = sorted(signers, key=lambda k: int(k.address, 16))
    # three models: A (the conftest's, exposure 1, first round 1; the agreement's), B (odd exposure), C (first
    # round 3, tiny exposure)
    signed.register(MODEL_B, modeller, 3 * ONE // 10 + 13, 1)
    signed.register(MODEL_C, modeller, 10**9 + 1, 3)
    oracle.setWatcher(outsider, True, {"from": deployer})
    signer_account = accounts.add(keys[0].key.hex())  # a signer key that also sends transactions (to dispute)
    try:
        deployer.transfer(signer_account, "10 ether")
        bond = oracle.disputeBond()
        for who in (outsider, signer_account, bob):
            fund_nmr(who, 40 * bond)
            set_allowance(nmr_token, who, oracle, 2**255)
        # the agreement on model A: 3 units of an odd size, locked now over rounds 2..4
        agreement, terms = make_nmr_agreement(unit_size=100 * NMR + 7, lockup_rounds=3, wind_down=3600)
        ag = Agreement(terms, str(modeller))
        reserve = terms.required_reserve(3 * terms.unit_size) + 5
        fund_nmr(modeller, reserve, agreement)
        agreement.postReserve(reserve, {"from": modeller})
        ag.post_reserve(str(modeller), reserve)
        fund_nmr(alice, 3 * terms.unit_size, agreement)
        agreement.deposit(3, {"from": alice})
        ag.deposit(str(alice), 3, chain.time())
        tx = agreement.lock({"from": modeller})
        ag.lock(str(modeller), tx.timestamp, agreement.startRound(), 1)
        assert ag.start_round == 2
        env = dict(
            oracle=oracle,
            token=nmr_token,
            domain=td.Domain(chain.id, oracle.address),
            keys=keys,
            intruder=signer_keys(1, seed="not-an-oracle-signer")[0],
            model_ids=[MID_A, MODEL_B, MODEL_C],
            watcher=outsider,
            signer_account=signer_account,
            stranger=bob,
            relayer=reporter,
            modeller=modeller,
            backer=alice,
            staking=staking,
            agreement=agreement,
            agreement_model=ag,
            record=_record(nmr_factory),
        )
        # (tests/chain/stateful/conftest.py sends every transaction with a fixed gas limit: no estimate first)
        state_machine(OracleMachine, env, settings=fuzz.budget(examples=12, steps=30))
    finally:
        accounts.remove(signer_account)
    print("oracle paths:", dict(sorted(STATS.items())), fuzz.COUNTS.get("oracle"))
    fuzz.report("oracle", paths=dict(sorted(STATS.items())))


def _record(factory):
    from brownie import ModellerRecord

    return ModellerRecord.at(factory.record())
