"""`anchor worker`: the batcher and the submitter in one loop, behind the one-writer lock.

Only one process may sign with a key at a time (`anchor.store.locks`); the CLI holds the lock of
the relayer's address around `Worker.run`, and that one worker signs for every body it hosts
(the bodies' keystores are under ``<data dir>/keys/``, see `anchor.chain.signer`).
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from types import FrameType

from eth_account.signers.local import LocalAccount

from anchor.chain.client import TRANSPORT_ERRORS, ChainClient, check_registry
from anchor.chain.fees import check_fee_mode, latest_base_fee
from anchor.chain.keystore import load_keystore
from anchor.chain.signer import Keyring
from anchor.errors import AnchorError, ChainError, ConfigError
from anchor.service.batcher import seal_due_batches
from anchor.service.bodies import update_body_metrics
from anchor.service.metrics import Metrics
from anchor.service.pacing import Window
from anchor.service.statuses import StatusSender
from anchor.service.submitter import Submitter, SubmitterConfig
from anchor.service.watcher import Watcher, WatcherMetrics
from anchor.settings import Settings
from anchor.store import Store, open_store
from anchor.store.batches import ClosedBatch

log = logging.getLogger(__name__)

#: The shortest pause between two iterations (seconds).
MIN_PAUSE = 0.01


class Worker:
    """Closes batches and submits them until stopped."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        submitter: Submitter,
        metrics: Metrics,
        watcher: Watcher | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.submitter = submitter
        self.metrics = metrics
        self.watcher = watcher
        self.statuses = StatusSender.beside(submitter, store)
        self.stopping = threading.Event()
        self._kept_at = -math.inf  # when `_keep_up` last ran (monotonic)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        account: LocalAccount | None = None,
        keyring: Keyring | None = None,
    ) -> Worker:
        """Check the chain, the registry and the fee mode, open the store, load the relayer's
        key (``account`` when given) and the bodies' keyring; fail fast with one sentence
        (`ConfigError`, `ChainError`)."""
        if account is None:
            if settings.keystore_path is None:
                raise ConfigError("ANCHOR_KEYSTORE_PATH is not set")
            account = load_keystore(settings.keystore_path, settings.keystore_secret())
        chain = ChainClient.from_settings(settings)
        w3 = chain.get()
        registry = check_registry(w3, settings.registry_address)
        try:
            base_fee = latest_base_fee(w3)
        except TRANSPORT_ERRORS as e:
            raise ChainError(f"cannot read the latest block: {e}") from e
        check_fee_mode(settings.fee_mode, base_fee, settings.chain_id)
        store = open_store(settings.resolved_database_url)
        store.migrate()
        metrics = Metrics()
        if keyring is None:
            keyring = Keyring(settings.data_dir, settings.body_keystore_secret())
        submitter = Submitter(
            chain,
            account,
            registry.address,
            store,
            SubmitterConfig.from_settings(settings),
            metrics,
            keyring,
        )
        submitter.bodies.preload()
        our_keys = _our_keys(store, account.address)
        watcher = Watcher(
            chain,
            registry.address,
            store,
            WatcherMetrics(metrics.registry),
            our_keys,
            our_bodies=lambda: {
                i.chain_body_id for i in store.list_issuers(onboarded=True) if i.chain_body_id
            },
            confirmations=settings.confirmations,
            from_block=settings.watch_from_block,
        )
        return cls(settings, store, submitter, metrics, watcher)

    def run_once(self) -> None:
        """One iteration: close due batches, one submitter step, then (`_keep_up`) the status
        changes, the metrics and one watcher step.

        In an open send window the worker steps every `MIN_PAUSE` to catch the digests that
        arrive before the block; those steps only batch and send, and leave `_keep_up` to the
        first step after the window, or to one `poll_interval` after its last run: the block
        is still to come, the watcher has nothing new to see, and the window's steps were 95%
        of an idle worker's, each a dozen queries (bench/README.md, idle CPU). When such a
        step closed nothing and the submitter's last step had nothing to send (`quiet`), the
        submitter's step is left out too until the block is due."""
        # Back-pressure, per body: while a body's batch waits for submission, its digests
        # accumulate into the next one (up to max_batch_size) instead of many small batches.
        # In a block's send window (`anchor.service.pacing`) a transaction is about to go out:
        # every batch that would come due before the block after this one closes now, and
        # makes this block instead of waiting a whole block more.
        started = time.monotonic()
        age, back_pressure = self.settings.max_batch_age, True
        window = self.submitter.send_window()
        if window is not None:
            # Age 0: every digest acknowledged before this step, however young (one acknowledged
            # a fraction of a millisecond ago would otherwise wait a block).
            age, back_pressure = max(age - window.interval, 0.0), False
        closed = seal_due_batches(
            self.store, self.settings.max_batch_size, age, back_pressure=back_pressure
        )
        if not self._idle_spin(window, closed):
            sent = self.submitter.sent
            self.submitter.step(window, paced=True)
            # What a send takes sets the window's lead: timed in every window, and in every
            # step that sent before any window (the first window's lead is then measured).
            if window is not None or self.submitter.sent != sent:
                self.submitter.pacing.took(time.monotonic() - started)
        for batch in closed:  # after the send: nothing between a freeze and its window's send
            self.metrics.batch_size.observe(batch.leaf_count)
            log.info("batch closed", extra={"batch": batch.batch_id, "size": batch.leaf_count})
        now = time.monotonic()
        if window is None or now - self._kept_at >= self.settings.poll_interval:
            self._kept_at = now
            self._keep_up()

    def _idle_spin(self, window: Window | None, closed: list[ClosedBatch]) -> bool:
        """True for a step in an open send window that closed nothing, after a submitter step
        that had nothing to send or follow, before the block is due: the submitter's step
        would only read the head it already has (and a dozen rows)."""
        if window is None or closed or not self.submitter.quiet:
            return False
        return self.submitter.pacing.before(window)

    def _keep_up(self) -> None:
        """The status changes integrators asked for, the metrics, one watcher step."""
        self.statuses.step()  # the status changes integrators asked for (one read when none)
        update_body_metrics(self.store, self.metrics)
        self.metrics.pending_digests.set(self.store.pending_count())
        self.metrics.oldest_unanchored_age.set(self.store.oldest_unanchored_age() or 0.0)
        if self.watcher is not None:
            # Bodies added while the worker runs: their keys are ours from the next step on.
            self.watcher.our_keys = _our_keys(self.store, self.submitter.relayer.address)
            self.watcher.step()

    def run(self) -> None:
        """Loop until `stop` (or SIGTERM/SIGINT when run in the main thread)."""
        log.info(
            "worker started",
            extra={"relayer": self.submitter.relayer.address, "mode": self.settings.submit_mode},
        )
        while not self.stopping.is_set():
            try:
                self.run_once()
            except ChainError as e:
                log.warning("chain error: %s", e)
            except AnchorError as e:
                log.error("worker step failed: %s", e)
            self.stopping.wait(self.pause())
        log.info("worker stopped")

    def pause(self) -> float:
        """Seconds to the next iteration: ``poll_interval``, or less when the next block's send
        window opens or its head is due sooner (a new head is reacted to at once); the
        shortest pause when a window opened during this iteration and is not sent in yet."""
        if self.submitter.send_window() is not None:
            return MIN_PAUSE
        chain = self.submitter.pacing.wake_in()
        poll = self.settings.poll_interval
        return poll if chain is None else max(min(poll, chain), MIN_PAUSE)

    def stop(self, *_: object) -> None:
        """Ask the loop to finish its current iteration and return."""
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        """Stop cleanly on SIGTERM and SIGINT."""

        def handler(signum: int, frame: FrameType | None) -> None:
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)


def _our_keys(store: Store, relayer: str) -> set[str]:
    """The service's keys, lower case: the relayer's and every key of every body it hosts."""
    keys = {relayer.lower()}
    keys.update(k.address.lower() for i in store.list_issuers() for k in i.keys)
    return keys
