"""One kiosk's connection to the broker: state with Last Will, health, queued events, commands.

Driven by a :class:`kiosk.fleet.loop.Loop` (all methods run on the loop thread).
What the kiosk publishes (topics in :mod:`kiosk.fleet.topics`):

* ``state`` (QoS 1, retained): ``{"online": true, "session": N, ...}`` right after
  each connect; the Last Will set for that connection is ``{"online": false,
  "session": N}``. ``N`` grows with every connection attempt, so a consumer
  ignores a death whose session is older than the birth it has. The kiosk
  also watches its own ``state``: a stale Will arriving after its birth (a
  broker that published it late) is answered by publishing the birth again,
  so even a consumer that starts later sees ``online``.
* ``health`` (QoS 0, retained) every ``health_interval`` seconds.
* events and command acks from the durable queue (QoS 1, in order).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.fleet import topics
from kiosk.fleet.eventqueue import MemoryQueue
from kiosk.fleet.guard import clock_plausible
from kiosk.fleet.link import Backoff, Link, SessionCounter
from kiosk.fleet.loop import Loop

log = logging.getLogger("kiosk.fleet.client")

PIPELINE = 20  # queued QoS 1 messages in flight at once


@dataclass
class Hooks:
    """What the owner (kiosk agent or simulator) supplies."""

    state_extra: Callable[[], dict[str, Any]] = dict
    health: Callable[[], dict[str, Any]] = dict
    on_command: Callable[[FleetClient, str, Any], None] = lambda c, i, d: None
    on_desired: Callable[[FleetClient, Any], None] = lambda c, d: None
    on_connected: Callable[[FleetClient], None] = lambda c: None


@dataclass
class Stats:
    connects: int = 0
    disconnects: int = 0
    published: int = 0
    received: int = 0
    connected_since: float = 0.0
    last_error: str = ""
    clock_unsynced_since: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


class FleetClient:
    def __init__(
        self,
        loop: Loop,
        link: Link,
        county: str,
        device_id: str,
        *,
        hooks: Hooks | None = None,
        queue: MemoryQueue | None = None,
        sessions: SessionCounter | None = None,
        health_interval: float = 60.0,
        backoff: Backoff | None = None,
        first_attempt_at: float = 0.0,
        clean_session: bool = False,
    ) -> None:
        self.loop = loop
        self.link = link
        self.county = topics.check_segment(county, "county")
        self.device_id = topics.check_segment(device_id, "device id")
        self.hooks = hooks or Hooks()
        self.queue = queue if queue is not None else MemoryQueue()
        self.sessions = sessions or SessionCounter()
        self.health_interval = health_interval
        self.backoff = backoff or Backoff()
        self.stats = Stats()
        self.connected = False
        self.enabled = True
        self.session = self.sessions.value
        self._next_attempt = first_attempt_at
        self._next_health = 0.0
        self._inflight: dict[int, int] = {}  # paho mid -> queue seq
        self._last_sent = 0
        self._state_confirmed = False
        self._sock: Any = None
        self._pending_report: dict[str, Any] | None = None  # config/reported made while offline
        self.mqtt = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=device_id, clean_session=clean_session, protocol=mqtt.MQTTv311
        )
        self.mqtt.max_inflight_messages_set(PIPELINE)
        if link.username:
            self.mqtt.username_pw_set(link.username, link.password or None)
        ctx = link.tls_context()
        if ctx is not None:
            self.mqtt.tls_set_context(ctx)
        self.mqtt.on_connect = self._on_connect
        self.mqtt.on_disconnect = self._on_disconnect
        self.mqtt.on_message = self._on_message
        self.mqtt.on_publish = self._on_publish
        self.mqtt.on_socket_open = lambda _c, _u, sock: self._watch(sock, False)
        self.mqtt.on_socket_close = lambda _c, _u, sock: self._unwatch(sock)
        self.mqtt.on_socket_register_write = lambda _c, _u, sock: self._watch(sock, True)
        self.mqtt.on_socket_unregister_write = lambda _c, _u, sock: self._watch(sock, False)

    # -- topics ---------------------------------------------------------------
    def topic(self, leaf: str) -> str:
        return topics.topic(self.county, self.device_id, leaf)

    # -- driven by the loop -------------------------------------------------------
    def _watch(self, sock: Any, write: bool) -> None:
        self._sock = sock
        self.loop.watch(sock, self, write)

    def _unwatch(self, sock: Any) -> None:
        self.loop.unwatch(sock)
        if sock is self._sock:
            self._sock = None

    def on_readable(self) -> None:
        self.mqtt.loop_read()

    def on_writable(self) -> None:
        self.mqtt.loop_write()

    def tick(self, now: float) -> None:
        if not clock_plausible(now):
            if not self.stats.clock_unsynced_since:
                log.warning(
                    "fleet: local clock %s is before this release; not synced yet (TLS and command "
                    "expiry cannot be trusted until it is)",
                    time.strftime("%Y-%m-%d %H:%M", time.gmtime(now)),
                )
                self.stats.clock_unsynced_since = time.monotonic()
        elif self.stats.clock_unsynced_since:
            log.info("fleet: local clock now plausible (synced)")
            self.stats.clock_unsynced_since = 0.0
        if self._sock is None:
            self.connected = False
            if self.enabled and time.monotonic() >= self._next_attempt:
                self._attempt()
            return
        self.mqtt.loop_misc()
        if self.connected:
            if now >= self._next_health:
                self._next_health = now + self.health_interval
                self.publish_health()
            self.drain()

    def fail(self, exc: BaseException) -> None:
        self.stats.last_error = f"{type(exc).__name__}: {exc}"
        self._drop()

    def _drop(self) -> None:
        """Close the socket without DISCONNECT (so the broker publishes our Will) and retry later."""
        self._close_socket()
        if self.connected:
            self.connected = False
            self.stats.disconnects += 1
        self._schedule_retry()

    def _close_socket(self) -> None:
        # paho has no public "drop the connection without DISCONNECT"; its _sock_close
        # closes the socket and calls on_socket_close (which unwatches it here).
        self.mqtt._sock_close()
        if self._sock is not None:
            self._unwatch(self._sock)

    def _schedule_retry(self) -> None:
        self._next_attempt = time.monotonic() + self.backoff.next_delay()

    def _attempt(self) -> None:
        self.session = self.sessions.next()
        self._state_confirmed = False
        self.mqtt.will_set(self.topic(topics.STATE), dumps(self._state_doc(False)), qos=1, retain=True)
        try:
            self.mqtt.connect(self.link.host, self.link.port, self.link.keepalive)
        except (OSError, ValueError) as exc:
            msg = f"{type(exc).__name__}: {exc}"
            if msg != self.stats.last_error:
                hint = (
                    " (the local clock is not synced: TLS certificates cannot be checked yet)"
                    if self.stats.clock_unsynced_since and self.link.tls
                    else ""
                )
                log.warning("fleet: cannot connect to %s: %s%s; retrying with backoff", self.link.url, msg, hint)
            self.stats.last_error = msg
            self._close_socket()
            self._schedule_retry()

    # -- paho callbacks (loop thread) ------------------------------------------------
    def _on_connect(self, client, _userdata, _flags, reason_code, _props) -> None:
        if reason_code.is_failure:
            msg = f"broker refused: {reason_code}"
            if msg != self.stats.last_error:
                log.warning("fleet: %s refused the connection: %s", self.link.url, reason_code)
            self.stats.last_error = msg
            self._drop()
            return
        self.connected = True
        self.backoff.reset()
        self.stats.connects += 1
        self.stats.connected_since = time.time()
        self.stats.last_error = ""
        log.info("fleet: connected to %s as %s (session %d)", self.link.url, self.device_id, self.session)
        client.subscribe(
            [(self.topic(f"{topics.CMD}/+"), 1), (self.topic(topics.CONFIG_DESIRED), 1), (self.topic(topics.STATE), 1)]
        )
        self.publish_state()
        self._next_health = 0.0
        self._last_sent = max(self._inflight.values(), default=0)
        self.hooks.on_connected(self)

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _props) -> None:
        if self.connected:
            log.info("fleet: disconnected from %s (%s)", self.link.url, reason_code)
            self.stats.disconnects += 1
        self.connected = False
        self._schedule_retry()

    def _on_publish(self, _client, _userdata, mid, _reason_code, _props) -> None:
        seq = self._inflight.pop(mid, None)
        if seq is not None:
            self.queue.remove(seq)

    def _on_message(self, _client, _userdata, msg) -> None:
        self.stats.received += 1
        parsed = topics.parse(msg.topic)
        if parsed is None or parsed.device_id != self.device_id:
            return
        try:
            doc = json.loads(msg.payload.decode("utf-8")) if msg.payload else None
        except (UnicodeDecodeError, ValueError):
            doc = "malformed"
        if parsed.leaf == topics.STATE:
            self._own_state(doc)
        elif parsed.leaf.startswith(topics.CMD + "/") and parsed.leaf.count("/") == 1:
            self.hooks.on_command(self, parsed.leaf.split("/", 1)[1], doc)
        elif parsed.leaf == topics.CONFIG_DESIRED and doc is not None:
            self.hooks.on_desired(self, doc)

    def _own_state(self, doc: Any) -> None:
        if not isinstance(doc, dict) or not self.connected:
            return
        session = doc.get("session")
        if doc.get("online") and session == self.session:
            self._state_confirmed = True
        elif not doc.get("online") and self._state_confirmed and isinstance(session, int) and session < self.session:
            log.info(
                "fleet: a late Last Will of session %s arrived after our birth (%d); publishing online again",
                session,
                self.session,
            )
            self.publish_state()

    # -- publishing ------------------------------------------------------------------
    def _state_doc(self, online: bool) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "v": topics.SCHEMA,
            "online": online,
            "session": self.session,
            "device_id": self.device_id,
            "county": self.county,
        }
        if online:
            doc.update(ts=int(time.time() * 1000), **self.hooks.state_extra())
        return doc

    def publish_state(self) -> None:
        self.mqtt.publish(self.topic(topics.STATE), dumps(self._state_doc(True)), qos=1, retain=True)
        self.stats.published += 1

    def publish_health(self) -> None:
        now = time.time()
        doc = {
            "v": topics.SCHEMA,
            "ts": int(now * 1000),
            "session": self.session,
            "health_interval": self.health_interval,
            "clock_ok": not self.stats.clock_unsynced_since,
            "fleet_queue": {
                "depth": self.queue.depth(),
                "oldest_age_s": round(self.queue.oldest_age(now), 1),
                "dropped": self.queue.dropped,
            },
        }
        doc.update(self.hooks.health())
        self.mqtt.publish(self.topic(topics.HEALTH), dumps(doc), qos=0, retain=True)
        self.stats.published += 1

    def enqueue(self, leaf: str, doc: dict[str, Any]) -> None:
        """Durably queue a QoS 1 message (events, acks); sent in order when connected."""
        doc = {"v": topics.SCHEMA, "ts": int(time.time() * 1000), **doc}
        self.queue.put(self.topic(leaf), dumps(doc))
        if self.connected:
            self.drain()

    def event(self, kind: str, **fields: Any) -> None:
        self.enqueue(topics.EVENT, {"event_id": uuid.uuid4().hex, "kind": kind, **fields})

    def ack(self, cmd_id: str, status: str, **fields: Any) -> None:
        self.enqueue(
            f"{topics.CMD}/{cmd_id}/ack", {"id": cmd_id, "device_id": self.device_id, "status": status, **fields}
        )

    def report(self, doc: dict[str, Any]) -> None:
        """``config/reported`` is retained state, not an event: the newest report wins."""
        if self.connected:
            self.mqtt.publish(
                self.topic(topics.CONFIG_REPORTED),
                dumps({"v": topics.SCHEMA, "ts": int(time.time() * 1000), **doc}),
                qos=1,
                retain=True,
            )
        else:
            self._pending_report = doc

    def drain(self) -> None:
        pending = self._pending_report
        if pending is not None and self.connected:
            self._pending_report = None
            self.report(pending)
        room = PIPELINE - len(self._inflight)
        if room <= 0:
            return
        for item in self.queue.peek(room, after=self._last_sent):
            info = self.mqtt.publish(item.topic, item.payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
                break
            self._inflight[info.mid] = item.seq
            self._last_sent = item.seq
            self.stats.published += 1

    # -- lifecycle -------------------------------------------------------------------
    def close_now(self, graceful: bool = True) -> None:
        """Stop: with ``graceful`` publish ``offline`` ourselves (a clean DISCONNECT sends no Will)."""
        self.enabled = False
        if self._sock is not None and self.connected and graceful:
            self.mqtt.publish(self.topic(topics.STATE), dumps(self._state_doc(False)), qos=1, retain=True)
            self.mqtt.disconnect()
            for _ in range(20):
                if self._sock is None or not self.mqtt.want_write():
                    break
                self.mqtt.loop_write()
        self._drop_quietly()

    def _drop_quietly(self) -> None:
        self._close_socket()
        self.connected = False
