#!/usr/bin/env bash
# deploy/check.sh — checks the deployment files that can be checked without a
# Docker engine or a Kubernetes cluster. Run from anywhere:
#
#   bash deploy/check.sh                      # finds build/ledgerd if built
#   LEDGERD=path/to/ledgerd LEDGERCTL=path/to/ledgerctl bash deploy/check.sh
#
# Checks (each one is "ok", "FAIL" or "skip" with the reason):
#   yaml        every deploy/**/*.y*ml parses (python3 + PyYAML)
#   k8s         the manifests agree with each other (labels/selectors, ports,
#               volumes, Secrets, kustomization) and keep the safety settings
#               (1 replica, non-root, read-only root fs, no capabilities)
#   image       Dockerfile ENTRYPOINT flags == StatefulSet args; EXPOSE ports
#   systemd     systemd-analyze verify of the unit (strict: any warning fails)
#   promtool    check rules, check config, unit tests of the alerts
#   flags       every ledgerd flag used in deploy/ is known to the ledgerd
#               binary (`ledgerd --helpfull`), and the readiness probe's
#               ledgerctl options are known to ledgerctl — needs the binaries
#   metrics     every metric name deploy/ uses (alert rules and their tests,
#               scrape configs, manifests, README) is exported by a real
#               ledgerd's /metrics — starts the built ledgerd on port 0
#
# Tools that are missing are skipped, not failed. Debian packages that make
# every check run: python3-yaml systemd prometheus (promtool).
# Prints "deploy-check: N passed, M failed, K skipped"; exits 1 if M > 0.
set -uo pipefail

DEPLOY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$DEPLOY/.." && pwd)
PASSED=0
FAILED=0
SKIPPED=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

ok()   { PASSED=$((PASSED + 1)); printf 'ok    %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL  %s\n' "$1"; if [ -n "${2:-}" ]; then printf '%s\n' "$2" | sed 's/^/      /'; fi; }
skip() { SKIPPED=$((SKIPPED + 1)); printf 'skip  %s (%s)\n' "$1" "$2"; }

# A python3 that has PyYAML (the distro one if the first on PATH lacks it).
PY=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import yaml' >/dev/null 2>&1; then PY=$p; break; fi
done

# --- yaml -------------------------------------------------------------------
if [ -z "$PY" ]; then
  skip "yaml" "no python3 with PyYAML: apt-get install python3-yaml"
  skip "k8s" "no python3 with PyYAML"
  skip "image" "no python3 with PyYAML"
else
  while IFS= read -r f; do
    rel=${f#"$ROOT"/}
    if out=$("$PY" -c '
import sys, yaml
try:
    list(yaml.safe_load_all(open(sys.argv[1])))
except yaml.YAMLError as e:
    sys.exit(str(e))' "$f" 2>&1); then
      ok "yaml $rel"
    else
      fail "yaml $rel" "$out"
    fi
  done < <(find "$DEPLOY" -type f \( -name '*.yml' -o -name '*.yaml' \) | sort)

  # --- k8s consistency ------------------------------------------------------
  if out=$("$PY" - "$DEPLOY" 2>&1 <<'PYEOF'
import os, sys, yaml
d = os.path.join(sys.argv[1], "k8s")
errs = []
def load(name):
    with open(os.path.join(d, name)) as f:
        return [x for x in yaml.safe_load_all(f) if x]
docs = {}
for name in sorted(os.listdir(d)):
    if name.endswith((".yaml", ".yml")):
        docs[name] = load(name)
for name, ds in docs.items():
    for x in ds:
        for k in ("apiVersion", "kind"):
            if k not in x: errs.append(f"{name}: a document has no {k}")
        if x.get("kind") != "Kustomization" and not x.get("metadata", {}).get("name"):
            errs.append(f"{name}: a {x.get('kind')} has no metadata.name")
kust = docs["kustomization.yaml"][0]
for r in kust.get("resources", []):
    if r not in docs: errs.append(f"kustomization.yaml: resource {r} does not exist")
if "secret.example.yaml" in kust.get("resources", []):
    errs.append("kustomization.yaml must not apply secret.example.yaml (placeholders)")
by_kind = {}
for name, ds in docs.items():
    for x in ds:
        by_kind.setdefault(x.get("kind"), []).append(x)
sts = by_kind["StatefulSet"][0]
spec = sts["spec"]
pod = spec["template"]["spec"]
labels = spec["template"]["metadata"]["labels"]
def matches(sel):
    return all(labels.get(k) == v for k, v in sel.items())
if spec.get("replicas") != 1: errs.append("StatefulSet: replicas must be 1 (single writer)")
if not matches(spec["selector"]["matchLabels"]): errs.append("StatefulSet: selector does not match template labels")
svcs = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
gov = svcs.get(spec.get("serviceName"))
if gov is None or gov["spec"].get("clusterIP") != "None":
    errs.append(f"StatefulSet: serviceName {spec.get('serviceName')} is not a headless Service")
c = pod["containers"][0]
ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
for s in svcs.values():
    if not matches(s["spec"]["selector"]): errs.append(f"Service {s['metadata']['name']}: selector does not match the pod")
    for p in s["spec"]["ports"]:
        tp = p.get("targetPort", p["port"])
        if (isinstance(tp, str) and tp not in ports) or (isinstance(tp, int) and tp not in ports.values()):
            errs.append(f"Service {s['metadata']['name']}: targetPort {tp} is not a container port")
for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
    pr = c.get(probe)
    if not pr: errs.append(f"container: no {probe}"); continue
    for kind in ("tcpSocket", "grpc", "httpGet"):
        if kind in pr:
            port = pr[kind]["port"]
            if (isinstance(port, str) and port not in ports) or (isinstance(port, int) and port not in ports.values()):
                errs.append(f"{probe}: port {port} is not a container port")
vols = {v["name"]: v for v in pod.get("volumes", [])}
vols.update({t["metadata"]["name"]: t for t in spec.get("volumeClaimTemplates", [])})
secrets = {s["metadata"]["name"]: s for s in docs.get("secret.example.yaml", [])}
for m in c.get("volumeMounts", []):
    if m["name"] not in vols: errs.append(f"volumeMount {m['name']}: no such volume")
for v in pod.get("volumes", []):
    if "secret" in v:
        sn = v["secret"]["secretName"]
        if sn not in secrets: errs.append(f"volume {v['name']}: Secret {sn} not in secret.example.yaml")
        mount = next((m for m in c["volumeMounts"] if m["name"] == v["name"]), None)
        if mount is None or not mount.get("readOnly"): errs.append(f"Secret volume {v['name']} must be mounted readOnly")
        else:
            for key in secrets.get(sn, {}).get("stringData", {}):
                path = mount["mountPath"].rstrip("/") + "/" + key
                if not any(path in a for a in c.get("args", [])) and not any(
                        path in a for a in c.get("readinessProbe", {}).get("exec", {}).get("command", [])):
                    errs.append(f"Secret {sn} key {key}: {path} is not used by any flag")
args = c.get("args", [])
for a in args:
    if a.startswith("--") and "=/" in a:
        path = a.split("=", 1)[1]
        if not any(path.startswith(m["mountPath"].rstrip("/") + "/") for m in c["volumeMounts"]):
            errs.append(f"arg {a}: path is not under any volumeMount")
psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
if not (psc.get("runAsNonRoot") or csc.get("runAsNonRoot")): errs.append("runAsNonRoot is not set")
if psc.get("runAsUser") != 10001: errs.append("runAsUser must be 10001 (the image's user)")
if not csc.get("readOnlyRootFilesystem"): errs.append("readOnlyRootFilesystem is not true")
if csc.get("allowPrivilegeEscalation") is not False: errs.append("allowPrivilegeEscalation must be false")
if csc.get("capabilities", {}).get("drop") != ["ALL"]: errs.append("capabilities.drop must be [ALL]")
if not pod.get("terminationGracePeriodSeconds", 30) > 30: errs.append("terminationGracePeriodSeconds should exceed the drain grace (> 30)")
for np in by_kind.get("NetworkPolicy", []):
    if not matches(np["spec"]["podSelector"].get("matchLabels", {})): errs.append("NetworkPolicy: podSelector does not match the pod")
    for rule in np["spec"].get("ingress", []):
        for p in rule.get("ports", []):
            if p["port"] not in ports.values() and p["port"] not in ports: errs.append(f"NetworkPolicy: port {p['port']} is not a container port")
for pdb in by_kind.get("PodDisruptionBudget", []):
    if not matches(pdb["spec"]["selector"]["matchLabels"]): errs.append("PodDisruptionBudget: selector does not match the pod")
print("\n".join(errs))
sys.exit(1 if errs else 0)
PYEOF
  ); then
    ok "k8s manifests consistent"
  else
    fail "k8s manifests consistent" "$out"
  fi

  # --- image vs manifest ----------------------------------------------------
  if out=$("$PY" - "$DEPLOY" 2>&1 <<'PYEOF'
import json, os, re, sys, yaml
d = sys.argv[1]
src = open(os.path.join(d, "Dockerfile")).read().replace("\\\n", " ")
errs = []
m = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", src, re.M)
entry = json.loads(m.group(1)) if m else []
if not entry: errs.append("Dockerfile: no exec-form ENTRYPOINT")
sts = [x for x in yaml.safe_load_all(open(os.path.join(d, "k8s/statefulset.yaml"))) if x][0]
c = sts["spec"]["template"]["spec"]["containers"][0]
isflag = lambda a: a.startswith("--") and len(a) > 2  # "--" alone is tini's separator
kflags = [a for a in c["args"] if isflag(a)]
if c.get("command", []) + kflags != entry:
    errs.append("StatefulSet command+args differ from the image ENTRYPOINT:\n  image: %s\n  k8s:   %s"
                % (" ".join(entry), " ".join(c.get("command", []) + kflags)))
expose = sorted(int(p) for line in re.findall(r"^EXPOSE\s+(.*)$", src, re.M) for p in line.split())
cports = sorted(p["containerPort"] for p in c["ports"])
if expose != cports: errs.append(f"EXPOSE {expose} != containerPorts {cports}")
if not re.search(r"--uid 10001", src): errs.append("Dockerfile: user is not uid 10001")
print("\n".join(errs))
sys.exit(1 if errs else 0)
PYEOF
  ); then
    ok "image ENTRYPOINT/EXPOSE match the StatefulSet"
  else
    fail "image ENTRYPOINT/EXPOSE match the StatefulSet" "$out"
  fi
fi

# --- systemd ----------------------------------------------------------------
UNIT="$DEPLOY/systemd/partnerledger.service"
if ! command -v systemd-analyze >/dev/null 2>&1; then
  skip "systemd-analyze verify" "systemd-analyze not installed: apt-get install systemd"
else
  # verify insists that ExecStart's binary exists and that the units the
  # service depends on exist: give it a scratch root with the distro's units
  # and an executable placeholder at /usr/local/bin/ledgerd (nothing outside
  # $TMP is touched).
  R="$TMP/root"
  mkdir -p "$R/usr/local/bin" "$R/etc/systemd/system" "$R/usr/lib/systemd"
  for u in /usr/lib/systemd/system /lib/systemd/system; do
    if [ -d "$u" ]; then cp -a "$u" "$R/usr/lib/systemd/"; break; fi
  done
  printf '#!/bin/sh\nexit 0\n' >"$R/usr/local/bin/ledgerd"
  chmod 0755 "$R/usr/local/bin/ledgerd"
  cp "$UNIT" "$R/etc/systemd/system/"
  out=$(systemd-analyze verify --root="$R" "$R/etc/systemd/system/partnerledger.service" 2>&1)
  rc=$?
  if [ $rc -eq 0 ] && [ -z "$out" ]; then
    ok "systemd-analyze verify partnerledger.service"
  else
    fail "systemd-analyze verify partnerledger.service (rc=$rc)" "$out"
  fi
  if command -v systemd-sysusers >/dev/null 2>&1; then
    if out=$(systemd-sysusers --dry-run --root="$R" "$DEPLOY/systemd/partnerledger.sysusers.conf" 2>&1); then
      ok "systemd-sysusers --dry-run partnerledger.sysusers.conf"
    else
      fail "systemd-sysusers --dry-run partnerledger.sysusers.conf" "$out"
    fi
  fi
fi

# --- promtool ---------------------------------------------------------------
P="$DEPLOY/prometheus"
if ! command -v promtool >/dev/null 2>&1; then
  skip "promtool" "promtool not installed: apt-get install prometheus"
else
  if out=$(cd "$P" && promtool check rules alerts.yml 2>&1); then ok "promtool check rules alerts.yml"; else fail "promtool check rules alerts.yml" "$out"; fi
  if out=$(cd "$P" && promtool test rules alerts.test.yml 2>&1); then ok "promtool test rules alerts.test.yml"; else fail "promtool test rules alerts.test.yml" "$out"; fi
  if out=$(cd "$P" && promtool check config prometheus.yml 2>&1); then ok "promtool check config prometheus.yml"; else fail "promtool check config prometheus.yml" "$out"; fi
  out=$(cd "$P" && promtool check config prometheus-k8s.yml 2>&1); rc=$?
  if [ $rc -eq 0 ]; then
    ok "promtool check config prometheus-k8s.yml"
  elif printf '%s' "$out" | grep -q 'field kubernetes_sd_configs not found'; then
    skip "promtool check config prometheus-k8s.yml" "this promtool is built without Kubernetes service discovery (Debian's is)"
  else
    fail "promtool check config prometheus-k8s.yml" "$out"
  fi
fi

# --- flags known to the binaries ----------------------------------------------
find_bin() { # $1 = name; prints the first executable found in the usual build dirs
  for b in "${PL_BUILD:-$ROOT/build}" "$ROOT/build"; do
    f=$(find "$b" -maxdepth 3 -type f -name "$1" -perm -u+x 2>/dev/null | head -n 1)
    if [ -n "$f" ]; then printf '%s\n' "$f"; return 0; fi
  done
  return 1
}
LEDGERD=${LEDGERD:-$(find_bin ledgerd || true)}
LEDGERCTL=${LEDGERCTL:-$(find_bin ledgerctl || true)}

# The ledgerd flags deploy/ passes (Dockerfile, StatefulSet args, systemd
# ExecStart, commented tuning lines excluded).
used_flags() {
  {
    sed -n '/^ENTRYPOINT/,/]/p' "$DEPLOY/Dockerfile"
    sed -n '/^ *args:/,/^ *ports:/p' "$DEPLOY/k8s/statefulset.yaml" | grep -v '^ *#'
    sed -n '/^ExecStart=/,/[^\\]$/p' "$UNIT"
  } | grep -o -- '--[a-z_]*=' | sed 's/^--//; s/=$//' | sort -u
}
if [ -z "$LEDGERD" ] || [ ! -x "$LEDGERD" ]; then
  skip "ledgerd knows every flag deploy/ uses" "no ledgerd binary (build it, or set LEDGERD=)"
else
  help=$("$LEDGERD" --helpfull 2>&1 || true)
  missing=""
  for fl in $(used_flags); do
    if ! printf '%s\n' "$help" | grep -q -- "--$fl "; then missing="$missing --$fl"; fi
  done
  if [ -z "$missing" ]; then
    ok "ledgerd knows every flag deploy/ uses ($LEDGERD)"
  else
    fail "ledgerd knows every flag deploy/ uses ($LEDGERD)" "unknown to this ledgerd (it would refuse to start):$missing"
  fi
fi
if [ -z "$LEDGERCTL" ] || [ ! -x "$LEDGERCTL" ]; then
  skip "ledgerctl knows the readiness probe's options" "no ledgerctl binary (build it, or set LEDGERCTL=)"
else
  help=$("$LEDGERCTL" health --help 2>&1 || true)
  missing=""
  # shellcheck disable=SC2013  # flag names contain no whitespace
  for fl in $(sed -n '/readinessProbe:/,/periodSeconds/p' "$DEPLOY/k8s/statefulset.yaml" | grep -o -- '--[a-z_]*=' | sed 's/^--//; s/=$//' | sort -u); do
    if ! printf '%s\n' "$help" | grep -q -- "--$fl"; then missing="$missing --$fl"; fi
  done
  if [ -z "$missing" ]; then
    ok "ledgerctl health knows the readiness probe's options ($LEDGERCTL)"
  else
    fail "ledgerctl health knows the readiness probe's options ($LEDGERCTL)" "not in \`ledgerctl health --help\`:$missing"
  fi
fi

# --- metric names exported by a real ledgerd --------------------------------
if [ -z "$LEDGERD" ] || [ ! -x "$LEDGERD" ] || [ -z "$PY" ]; then
  skip "ledgerd exports every metric deploy/ uses" "no ledgerd binary or no python3"
else
  "$LEDGERD" --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 \
    --data_dir="$TMP/metrics-data" --backup_root= --port_file="$TMP/metrics-port" \
    >"$TMP/metrics-ledgerd.log" 2>&1 &
  mpid=$!
  for _ in $(seq 1 600); do [ -s "$TMP/metrics-port" ] && break; sleep 0.05; done
  if out=$("$PY" - "$DEPLOY" "$TMP/metrics-ledgerd.log" 2>&1 <<'PYEOF'
import json, os, re, sys, urllib.request
deploy, log = sys.argv[1], sys.argv[2]
port = None
for line in open(log):
    try:
        rec = json.loads(line)
    except ValueError:
        continue
    if rec.get("msg") == "serving":
        port = rec["fields"]["metrics_port"]
if not port:
    sys.exit("ledgerd did not start serving:\n" + open(log).read()[-2000:])
text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
exported = set()
for line in text.splitlines():
    m = re.match(r"# TYPE (\S+) ", line) or re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", line)
    if m:
        exported.add(m.group(1))
used = {}
for root, _, files in os.walk(deploy):
    for f in files:
        path = os.path.join(root, f)
        try:
            body = open(path).read()
        except UnicodeDecodeError:
            continue
        for name in re.findall(r"\bpartnerledger_[a-z0-9_]+", body):
            used.setdefault(name, set()).add(os.path.relpath(path, deploy))
missing = sorted(n for n in used if n not in exported)
for n in missing:
    print(f"{n} (used in {', '.join(sorted(used[n]))}) is not in /metrics")
if not used:
    print("no metric names found in deploy/ (the check would prove nothing)")
sys.exit(1 if missing or not used else 0)
PYEOF
  ); then
    ok "ledgerd exports every metric deploy/ uses ($LEDGERD)"
  else
    fail "ledgerd exports every metric deploy/ uses ($LEDGERD)" "$out"
  fi
  kill "$mpid" 2>/dev/null || true
  wait "$mpid" 2>/dev/null || true
fi

echo "deploy-check: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
