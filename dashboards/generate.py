#!/usr/bin/env python3
"""Generate the Grafana dashboards in this directory (overview, charging, protocol).

The JSON files are committed; edit this script and run it (`python3 dashboards/generate.py`)
rather than editing them by hand. Every query names a metric from docs/metrics.md;
tests/prometheus.rs runs each one against a real Prometheus scraping a loaded SCP.
"""

import json
import os

RATE = "$__rate_interval"
DS = {"type": "prometheus", "uid": "${datasource}"}


class Board:
    def __init__(self, uid, title, description, tags):
        self.uid, self.title, self.description, self.tags = uid, title, description, tags
        self.panels = []
        self.next_id = 1
        self.y = 0
        self.x = 0
        self.row_h = 0

    def _pos(self, w, h):
        if self.x + w > 24:
            self.x, self.y = 0, self.y + self.row_h
            self.row_h = 0
        pos = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.x += w
        self.row_h = max(self.row_h, h)
        return pos

    def row(self, title):
        if self.x:
            self.x, self.y = 0, self.y + self.row_h
            self.row_h = 0
        self.panels.append({
            "type": "row", "id": self.next_id, "title": title, "collapsed": False,
            "gridPos": {"x": 0, "y": self.y, "w": 24, "h": 1}, "panels": [],
        })
        self.next_id += 1
        self.y += 1

    def panel(self, kind, title, targets, unit="short", w=12, h=8, description="",
              stack=False, thresholds=None, minv=None, maxv=None):
        custom = {}
        if kind == "timeseries":
            custom = {
                "drawStyle": "line", "lineWidth": 1, "fillOpacity": 10,
                "showPoints": "never", "spanNulls": True,
                "stacking": {"mode": "normal" if stack else "none", "group": "A"},
            }
        defaults = {"unit": unit, "custom": custom}
        if minv is not None:
            defaults["min"] = minv
        if maxv is not None:
            defaults["max"] = maxv
        if thresholds:
            defaults["thresholds"] = {"mode": "absolute", "steps": [
                {"color": c, "value": v} for v, c in thresholds]}
        p = {
            "type": kind,
            "id": self.next_id,
            "title": title,
            "description": description,
            "datasource": DS,
            "gridPos": self._pos(w, h),
            "fieldConfig": {"defaults": defaults, "overrides": []},
            "options": {},
            "targets": [
                {"refId": chr(ord("A") + i), "datasource": DS, "expr": expr,
                 "legendFormat": legend, "range": True}
                for i, (expr, legend) in enumerate(targets)
            ],
        }
        if kind == "timeseries":
            p["options"] = {"legend": {"displayMode": "list", "placement": "bottom"},
                            "tooltip": {"mode": "multi", "sort": "desc"}}
        elif kind == "stat":
            p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "",
                                              "values": False},
                            "colorMode": "value", "graphMode": "area", "textMode": "auto"}
        self.panels.append(p)
        self.next_id += 1

    def ts(self, title, targets, **kw):
        self.panel("timeseries", title, targets, **kw)

    def stat(self, title, targets, **kw):
        kw.setdefault("w", 6)
        kw.setdefault("h", 4)
        self.panel("stat", title, targets, **kw)

    def json(self):
        return {
            "__inputs": [],
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": self.tags,
            "editable": True,
            "graphTooltip": 1,
            "schemaVersion": 39,
            "version": 1,
            "time": {"from": "now-1h", "to": "now"},
            "refresh": "30s",
            "timezone": "",
            "links": [{"type": "dashboards", "tags": ["strowger"], "asDropdown": False,
                       "title": "Strowger", "includeVars": True, "keepTime": True}],
            "annotations": {"list": [{
                "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                "name": "Annotations & Alerts", "type": "dashboard"}]},
            "templating": {"list": [{
                "name": "datasource", "label": "Prometheus", "type": "datasource",
                "query": "prometheus", "current": {}, "hide": 0, "refresh": 1,
                "regex": "", "options": [], "includeAll": False, "multi": False,
            }]},
            "panels": self.panels,
        }


def histogram_quantile(q, metric):
    return f"histogram_quantile({q}, sum by (le) (rate({metric}_bucket[{RATE}])))"


ERROR_OUTCOMES = "aborted|timeout|ledger_unavailable|overload|draining|route_failure|unknown_service_key"


def overview():
    b = Board("strowger-overview", "Strowger / Overview",
              "Traffic, call outcomes, setup latency, errors and links of the Strowger SCP.",
              ["strowger"])
    b.row("Traffic")
    b.stat("Call attempts /s", [(f"sum(rate(strowger_call_attempts_total[{RATE}]))", "attempts")],
           unit="reqps")
    b.stat("Service success ratio", [(
        f'sum(rate(strowger_calls_total{{outcome!~"{ERROR_OUTCOMES}"}}[{RATE}])) '
        f"/ sum(rate(strowger_calls_total[{RATE}]))", "success")],
        unit="percentunit", minv=0, maxv=1,
        thresholds=[(None, "red"), (0.95, "orange"), (0.99, "green")],
        description="Calls the SCP decided properly (any outcome but aborted, timeout, "
                    "ledger unavailable, overload, draining, route failure, unknown key).")
    b.stat("Active dialogues", [("sum(strowger_tcap_dialogues_active)", "dialogues")])
    b.stat("Active links", [('sum(strowger_m3ua_links{state="active"})', "active")],
           thresholds=[(None, "red"), (1, "green")])
    b.ts("Call attempts and answers /s", [
        (f"sum(rate(strowger_call_attempts_total[{RATE}]))", "attempts"),
        (f'sum(rate(strowger_calls_total{{outcome="answered"}}[{RATE}]))', "answered"),
    ], unit="reqps")
    b.ts("Call outcomes /s", [
        (f"sum by (outcome) (rate(strowger_calls_total[{RATE}]))", "{{outcome}}"),
    ], unit="reqps", stack=True)
    b.row("Latency")
    b.ts("InitialDP → first answer (setup latency)", [
        (histogram_quantile(0.5, "strowger_call_setup_seconds"), "p50"),
        (histogram_quantile(0.99, "strowger_call_setup_seconds"), "p99"),
    ], unit="s")
    b.ts("Answered call duration", [
        (histogram_quantile(0.5, "strowger_call_duration_seconds"), "p50"),
        (histogram_quantile(0.99, "strowger_call_duration_seconds"), "p99"),
    ], unit="s")
    b.row("Errors")
    b.ts("Decode errors /s", [
        (f"sum by (layer, reason) (rate(strowger_decode_errors_total[{RATE}]))",
         "{{layer}} {{reason}}"),
    ], unit="reqps")
    b.ts("TCAP aborts /s", [
        (f"sum by (cause) (rate(strowger_tcap_dialogues_aborted_total[{RATE}]))", "{{cause}}"),
        (f"sum(rate(strowger_tcap_dialogues_timed_out_total[{RATE}]))", "idle timeout"),
    ], unit="reqps")
    b.ts("Abort ratio", [(
        f"sum(rate(strowger_tcap_dialogues_aborted_total[{RATE}])) "
        f"/ sum(rate(strowger_tcap_dialogues_begun_total[{RATE}]))", "aborted / begun")],
        unit="percentunit", minv=0)
    b.ts("Overload", [
        ("max(strowger_overload_active)", "overload active"),
        (f"sum(rate(strowger_admission_rejections_total[{RATE}]))", "rejections /s"),
        (f"sum(rate(strowger_callgap_sent_total[{RATE}]))", "CallGaps /s"),
    ])
    b.row("Links and process")
    b.ts("M3UA links by state", [
        ("sum by (state) (strowger_m3ua_links)", "{{state}}"),
    ])
    b.ts("M3UA messages /s", [
        (f"sum by (direction) (rate(strowger_m3ua_messages_total[{RATE}]))", "{{direction}}"),
    ], unit="reqps")
    b.ts("CPU", [(f"sum(rate(strowger_process_cpu_seconds_total[{RATE}]))", "cores")],
         unit="short", w=8)
    b.ts("Resident memory", [("sum(strowger_process_resident_memory_bytes)", "RSS")],
         unit="bytes", w=8)
    b.ts("Mailbox depth", [("sum by (actor) (strowger_actor_mailbox_depth)", "{{actor}}")],
         w=8)
    return b


def charging():
    b = Board("strowger-charging", "Strowger / Charging",
              "Prepaid money flows, live reservations and the embedded ledger.",
              ["strowger"])
    b.row("Money")
    b.ts("Money moved (minor units /s)", [
        (f"sum by (operation) (rate(strowger_prepaid_money_minor_units_total[{RATE}]))",
         "{{operation}}"),
    ], description="applied = reserved for calls; deducted = charged; returned = released back; "
                   "expired = settled by the expiry policy.")
    b.ts("Money moved in the range (minor units)", [
        ("sum by (operation) (increase(strowger_prepaid_money_minor_units_total[$__range]))",
         "{{operation}}"),
    ])
    b.ts("Live reservations", [("sum(strowger_prepaid_reservations_live)", "reservations")])
    b.ts("Prepaid requests /s", [
        (f"sum by (operation, result) (rate(strowger_prepaid_requests_total[{RATE}]))",
         "{{operation}} {{result}}"),
    ], unit="reqps")
    b.ts("Reservations expired /s", [
        (f"sum(rate(strowger_ledger_reservations_expired_total[{RATE}]))", "expired"),
    ], unit="reqps")
    b.ts("Released for credit, prepaid auth failed /s", [
        (f'sum by (outcome) (rate(strowger_calls_total{{outcome=~"released_for_credit|prepaid_auth_failed|ledger_unavailable"}}[{RATE}]))',
         "{{outcome}}"),
    ], unit="reqps")
    b.row("Ledger")
    b.ts("Group commits and records /s", [
        (f"sum(rate(strowger_ledger_commits_total[{RATE}]))", "commits"),
        (f"sum(rate(strowger_ledger_records_total[{RATE}]))", "records"),
    ], unit="reqps")
    b.ts("Records per group commit", [
        (f"sum(rate(strowger_ledger_batch_records_sum[{RATE}])) "
         f"/ sum(rate(strowger_ledger_batch_records_count[{RATE}]))", "mean"),
        (histogram_quantile(0.99, "strowger_ledger_batch_records"), "p99"),
    ])
    b.ts("Commit latency (write + fdatasync)", [
        (histogram_quantile(0.5, "strowger_ledger_fsync_seconds"), "p50"),
        (histogram_quantile(0.99, "strowger_ledger_fsync_seconds"), "p99"),
    ], unit="s")
    b.ts("Prepaid request latency as calls see it", [
        (f"histogram_quantile(0.5, sum by (le) (rate(strowger_prepaid_request_seconds_bucket"
         f"{{stage=\"durable\"}}[{RATE}])))", "p50 answer durable"),
        (f"histogram_quantile(0.99, sum by (le) (rate(strowger_prepaid_request_seconds_bucket"
         f"{{stage=\"durable\"}}[{RATE}])))", "p99 answer durable"),
        (f"histogram_quantile(0.99, sum by (le) (rate(strowger_prepaid_request_seconds_bucket"
         f"{{stage=\"answer\"}}[{RATE}])))", "p99 actor answered"),
    ], unit="s")
    b.ts("Ledger failures", [
        (f"sum(increase(strowger_ledger_failures_total[{RATE}]))", "write/fsync failures"),
        (f"sum(increase(strowger_ledger_snapshot_failures_total[{RATE}]))", "snapshot failures"),
        (f"sum(increase(strowger_ledger_preallocation_failures_total[{RATE}]))",
         "preallocation failures"),
        (f"sum(increase(strowger_ledger_overdeduct_total[{RATE}]))", "over-deducts"),
    ])
    b.ts("Journal size", [("sum(strowger_ledger_journal_bytes)", "journal")], unit="bytes")
    b.ts("Snapshots", [
        (f"sum(increase(strowger_ledger_snapshots_total[{RATE}]))", "written"),
        ("sum(strowger_ledger_torn_tail_truncations_total)", "torn tails truncated (since start)"),
    ])
    b.ts("Account actor queue", [
        ('sum(strowger_actor_mailbox_depth{actor="account"})', "requests waiting"),
    ])
    b.ts("CDRs written /s", [
        (f"sum(rate(strowger_cdr_records_total[{RATE}]))", "CDRs"),
    ], unit="reqps")
    return b


def protocol():
    b = Board("strowger-protocol", "Strowger / Protocol",
              "Per-layer signalling: M3UA, SCCP, TCAP and CAP messages, decode errors, aborts.",
              ["strowger"])
    b.row("Messages")
    b.ts("M3UA messages /s by class", [
        (f"sum by (direction, class) (rate(strowger_m3ua_messages_total[{RATE}]))",
         "{{direction}} {{class}}"),
    ], unit="reqps")
    b.ts("SCCP messages /s", [
        (f'sum by (direction, type) (rate(strowger_layer_messages_total{{layer="sccp"}}[{RATE}]))',
         "{{direction}} {{type}}"),
    ], unit="reqps")
    b.ts("TCAP messages /s", [
        (f'sum by (direction, type) (rate(strowger_layer_messages_total{{layer="tcap"}}[{RATE}]))',
         "{{direction}} {{type}}"),
    ], unit="reqps")
    b.ts("CAP operations /s", [
        (f"sum by (direction, operation) (rate(strowger_cap_operations_total[{RATE}]))",
         "{{direction}} {{operation}}"),
    ], unit="reqps")
    b.row("Errors")
    b.ts("Decode errors /s by layer", [
        (f"sum by (layer) (rate(strowger_decode_errors_total[{RATE}]))", "{{layer}}"),
    ], unit="reqps")
    b.ts("Decode errors /s by reason", [
        (f"sum by (layer, reason) (rate(strowger_decode_errors_total[{RATE}]))",
         "{{layer}} {{reason}}"),
    ], unit="reqps")
    b.row("TCAP dialogues")
    b.ts("Dialogues /s", [
        (f"sum(rate(strowger_tcap_dialogues_begun_total[{RATE}]))", "begun"),
        (f"sum(rate(strowger_tcap_dialogues_ended_total[{RATE}]))", "ended"),
        (f"sum(rate(strowger_tcap_dialogues_aborted_total[{RATE}]))", "aborted"),
        (f"sum(rate(strowger_tcap_dialogues_timed_out_total[{RATE}]))", "timed out"),
    ], unit="reqps")
    b.ts("Aborts /s by cause", [
        (f"sum by (cause) (rate(strowger_tcap_dialogues_aborted_total[{RATE}]))", "{{cause}}"),
    ], unit="reqps")
    b.ts("Active dialogues", [("sum(strowger_tcap_dialogues_active)", "active")])
    b.ts("Call actor mailbox depth", [
        ('sum(strowger_actor_mailbox_depth{actor="call"})', "messages waiting"),
    ])
    return b


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for name, build in [("overview", overview), ("charging", charging), ("protocol", protocol)]:
        with open(os.path.join(here, f"{name}.json"), "w") as f:
            json.dump(build().json(), f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
