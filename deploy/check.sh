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
#               (1 replica, non-root, read-only root fs, no capabilities);
#               k8s/cluster: 3 ledgerd nodes whose --etcd_endpoints, TLS and
#               --advertise agree with the etcd StatefulSet and Services, and
#               etcd's --max-request-bytes >= limits::kEtcdRequestBytesMax;
#               `kubectl kustomize` renders both (where kubectl exists)
#   image       Dockerfile ENTRYPOINT flags == StatefulSet args; EXPOSE ports
#   systemd     systemd-analyze verify of the unit, alone and with the
#               cluster drop-in (strict: any warning fails); the 3-node files
#               agree (drop-in, cluster.env, etcd.default: every variable an
#               etcd flag)
#   promtool    check rules, check config, unit tests of the alerts
#   flags       every ledgerd flag used in deploy/ is known to the ledgerd
#               binary (`ledgerd --helpfull`), and the readiness probe's
#               ledgerctl options are known to ledgerctl — needs the binaries
#   metrics     every metric name deploy/ uses (alert rules and their tests,
#               scrape configs, manifests, README) is exported by a real
#               ledgerd's /metrics — starts the built ledgerd on port 0, with
#               --replication=etcd against a loopback etcd member when etcd is
#               installed, whose /metrics must have the etcd_* series the
#               alert rules use
#
# Tools that are missing are skipped, not failed. Debian packages that make
# every check run: python3-yaml systemd prometheus (promtool) etcd-server.
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
  # deploy/k8s: one ledgerd (single node); deploy/k8s/cluster: 3 ledgerd
  # nodes with --replication=etcd and a 3-member etcd StatefulSet.
  for kdir in k8s:1 k8s/cluster:3; do
  if out=$("$PY" - "$DEPLOY" "${kdir%%:*}" "${kdir##*:}" "$ROOT/include/partnerledger/limits.h" 2>&1 <<'PYEOF'
import os, re, sys, yaml
d = os.path.join(sys.argv[1], sys.argv[2])
want_replicas = int(sys.argv[3])
limits_h = open(sys.argv[4]).read()
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
stss = by_kind.get("StatefulSet", [])
def component(sts):
    return sts["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component")
def labels_of(sts):
    return sts["spec"]["template"]["metadata"]["labels"]
def matches(sel, sts):
    return all(labels_of(sts).get(k) == v for k, v in sel.items())
def selected(sel):
    return [s for s in stss if matches(sel, s)]
def cports(sts):
    c = sts["spec"]["template"]["spec"]["containers"][0]
    return {p["name"]: p["containerPort"] for p in c.get("ports", [])}
def has_port(port, ports):
    return (isinstance(port, str) and port in ports) or (isinstance(port, int) and port in ports.values())
svcs = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
secrets = {s["metadata"]["name"]: s for s in docs.get("secret.example.yaml", [])}
ledgerd = [s for s in stss if component(s) == "ledgerd"]
etcd = [s for s in stss if component(s) == "etcd"]
if len(ledgerd) != 1: errs.append(f"want one ledgerd StatefulSet, found {len(ledgerd)}")
if want_replicas > 1 and len(etcd) != 1: errs.append(f"want one etcd StatefulSet, found {len(etcd)}")
if want_replicas == 1 and etcd: errs.append("the single-node manifests must not run etcd")

# Every StatefulSet: selector, governing Service, probes, volumes, Secrets, hardening.
for sts in stss:
    n = sts["metadata"]["name"]
    spec = sts["spec"]
    pod = spec["template"]["spec"]
    c = pod["containers"][0]
    ports = cports(sts)
    if not matches(spec["selector"]["matchLabels"], sts): errs.append(f"{n}: selector does not match template labels")
    gov = svcs.get(spec.get("serviceName"))
    if gov is None or gov["spec"].get("clusterIP") != "None":
        errs.append(f"{n}: serviceName {spec.get('serviceName')} is not a headless Service")
    elif not matches(gov["spec"]["selector"], sts):
        errs.append(f"{n}: its governing Service does not select it")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        pr = c.get(probe)
        if not pr: errs.append(f"{n}: container has no {probe}"); continue
        for kind in ("tcpSocket", "grpc", "httpGet"):
            if kind in pr and not has_port(pr[kind]["port"], ports):
                errs.append(f"{n} {probe}: port {pr[kind]['port']} is not a container port")
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    vols.update({t["metadata"]["name"]: t for t in spec.get("volumeClaimTemplates", [])})
    for m in c.get("volumeMounts", []):
        if m["name"] not in vols: errs.append(f"{n} volumeMount {m['name']}: no such volume")
    args = c.get("args", [])
    probe_cmd = c.get("readinessProbe", {}).get("exec", {}).get("command", [])
    for v in pod.get("volumes", []):
        if "secret" in v:
            sn = v["secret"]["secretName"]
            if sn not in secrets: errs.append(f"{n} volume {v['name']}: Secret {sn} not in secret.example.yaml")
            mount = next((m for m in c.get("volumeMounts", []) if m["name"] == v["name"]), None)
            if mount is None or not mount.get("readOnly"): errs.append(f"{n}: Secret volume {v['name']} must be mounted readOnly")
            else:
                for key in secrets.get(sn, {}).get("stringData", {}):
                    path = mount["mountPath"].rstrip("/") + "/" + key
                    if not any(path in a for a in args) and not any(path in a for a in probe_cmd):
                        errs.append(f"{n}: Secret {sn} key {key}: {path} is not used by any flag")
    for a in args:
        # A file or directory flag (--etcd_prefix is an etcd key, not a path).
        if a.startswith("--") and "=/" in a and not a.split("=", 1)[0].endswith("prefix"):
            path = a.split("=", 1)[1]
            if not any(path.startswith(m["mountPath"].rstrip("/") + "/") for m in c.get("volumeMounts", [])):
                errs.append(f"{n} arg {a}: path is not under any volumeMount")
    env = {e["name"] for e in c.get("env", [])}
    for a in args + c.get("command", []):
        for var in re.findall(r"\$\(([A-Z_]+)\)", a):
            if var not in env: errs.append(f"{n} arg {a}: $({var}) is not in the container's env")
    psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
    if not (psc.get("runAsNonRoot") or csc.get("runAsNonRoot")): errs.append(f"{n}: runAsNonRoot is not set")
    if component(sts) == "ledgerd" and psc.get("runAsUser") != 10001: errs.append(f"{n}: runAsUser must be 10001 (the image's user)")
    if not csc.get("readOnlyRootFilesystem"): errs.append(f"{n}: readOnlyRootFilesystem is not true")
    if csc.get("allowPrivilegeEscalation") is not False: errs.append(f"{n}: allowPrivilegeEscalation must be false")
    if csc.get("capabilities", {}).get("drop") != ["ALL"]: errs.append(f"{n}: capabilities.drop must be [ALL]")

if ledgerd:
    sts = ledgerd[0]
    spec, pod = sts["spec"], sts["spec"]["template"]["spec"]
    c = pod["containers"][0]
    args = c.get("args", [])
    if spec.get("replicas") != want_replicas:
        errs.append(f"ledgerd StatefulSet: replicas must be {want_replicas}" + (" (single writer)" if want_replicas == 1 else ""))
    if not pod.get("terminationGracePeriodSeconds", 30) > 30: errs.append("terminationGracePeriodSeconds should exceed the drain grace (> 30)")
    flags = {}
    for a in args:
        if a.startswith("--") and "=" in a:
            k, v = a[2:].split("=", 1)
            flags[k] = v
    if want_replicas == 1 and "replication" in flags: errs.append("the single-node StatefulSet must not replicate")

for s in svcs.values():
    targets = selected(s["spec"]["selector"])
    if not targets: errs.append(f"Service {s['metadata']['name']}: selector matches no pod"); continue
    for p in s["spec"]["ports"]:
        tp = p.get("targetPort", p["port"])
        if not has_port(tp, cports(targets[0])):
            errs.append(f"Service {s['metadata']['name']}: targetPort {tp} is not a container port")
for np in by_kind.get("NetworkPolicy", []):
    targets = selected(np["spec"]["podSelector"].get("matchLabels", {}))
    if not targets: errs.append(f"NetworkPolicy {np['metadata']['name']}: podSelector matches no pod"); continue
    for rule in np["spec"].get("ingress", []):
        for p in rule.get("ports", []):
            if not has_port(p["port"], cports(targets[0])): errs.append(f"NetworkPolicy {np['metadata']['name']}: ingress port {p['port']} is not a container port")
    for rule in np["spec"].get("egress", []):
        for to in rule.get("to", []):
            if "podSelector" in to and "namespaceSelector" not in to:
                peers = selected(to["podSelector"].get("matchLabels", {}))
                if not peers: errs.append(f"NetworkPolicy {np['metadata']['name']}: egress podSelector matches no pod")
                for p in rule.get("ports", []):
                    if peers and not has_port(p["port"], cports(peers[0])): errs.append(f"NetworkPolicy {np['metadata']['name']}: egress port {p['port']} is not a port of {peers[0]['metadata']['name']}")
for pdb in by_kind.get("PodDisruptionBudget", []):
    if not selected(pdb["spec"]["selector"]["matchLabels"]): errs.append(f"PodDisruptionBudget {pdb['metadata']['name']}: selector matches no pod")

# The restore Pod example (not applied by kustomize): the ledgerd
# StatefulSet's image, user and data layout, and one of its volumes.
for pod in by_kind.get("Pod", []):
    n = pod["metadata"]["name"]
    if n in kust.get("resources", []): errs.append(f"Pod {n} must not be in kustomization.yaml")
    if not ledgerd: continue
    lsts = ledgerd[0]
    lc = lsts["spec"]["template"]["spec"]["containers"][0]
    pc = pod["spec"]["containers"][0]
    if pc.get("image") != lc.get("image"): errs.append(f"Pod {n}: image differs from the ledgerd StatefulSet's")
    if pod["spec"].get("securityContext", {}).get("runAsUser") != lsts["spec"]["template"]["spec"]["securityContext"].get("runAsUser"):
        errs.append(f"Pod {n}: runAsUser differs from the ledgerd StatefulSet's")
    want_dir = next((a for a in lc.get("args", []) if a.startswith("--data_dir=")), None)
    if want_dir not in pc.get("args", []): errs.append(f"Pod {n}: {want_dir} (the StatefulSet's) is not among its args")
    tmpl = lsts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"]
    claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["spec"].get("volumes", []) if "persistentVolumeClaim" in v]
    if not any(re.fullmatch(rf"{tmpl}-{lsts['metadata']['name']}-[0-9]+", c) for c in claims):
        errs.append(f"Pod {n}: no volume is a node's claim ({tmpl}-{lsts['metadata']['name']}-N)")
    mounts = {m["name"]: m["mountPath"] for m in pc.get("volumeMounts", [])}
    lmounts = {m["name"]: m["mountPath"] for m in lc.get("volumeMounts", [])}
    if mounts.get(tmpl) != lmounts.get(tmpl): errs.append(f"Pod {n}: volume {tmpl} is not mounted where the StatefulSet mounts it")

# The replicated cluster: ledgerd's flags agree with the etcd StatefulSet.
if ledgerd and etcd and want_replicas > 1:
    lsts, ests = ledgerd[0], etcd[0]
    lc = lsts["spec"]["template"]["spec"]["containers"][0]
    ec = ests["spec"]["template"]["spec"]["containers"][0]
    def flagmap(args):
        out = {}
        for a in args:
            if a.startswith("--"):
                k, _, v = a[2:].partition("=")
                out[k] = v
        return out
    lf, ef = flagmap(lc.get("args", [])), flagmap(ec.get("args", []))
    ename, esvc = ests["metadata"]["name"], ests["spec"]["serviceName"]
    lsvc = lsts["spec"]["serviceName"]
    members = ests["spec"]["replicas"]
    gov = svcs.get(esvc, {}).get("spec", {})
    if gov.get("publishNotReadyAddresses") is not True:
        errs.append(f"etcd Service {esvc}: publishNotReadyAddresses must be true (members resolve each other before they are ready)")
    if members % 2 != 1: errs.append(f"etcd replicas {members}: use an odd number")
    scheme = "https" if "client-cert-auth" in ef else "http"
    eports = cports(ests)
    client_url = ef.get("listen-client-urls", "")
    if not client_url.startswith(scheme + "://") or not client_url.endswith(f":{eports.get('client')}"):
        errs.append(f"etcd --listen-client-urls {client_url}: want {scheme}:// on the client port {eports.get('client')}")
    peer_scheme = "https" if "peer-client-cert-auth" in ef else "http"
    want_cluster = ",".join(f"{ename}-{i}={peer_scheme}://{ename}-{i}.{esvc}.$(POD_NAMESPACE).svc:{eports.get('peer')}" for i in range(members))
    if ef.get("initial-cluster") != want_cluster:
        errs.append(f"etcd --initial-cluster does not list its {members} replicas:\n  have {ef.get('initial-cluster')}\n  want {want_cluster}")
    if ef.get("name") != "$(POD_NAME)": errs.append("etcd --name must be $(POD_NAME)")
    m = re.search(r"kEtcdRequestBytesMax\s*=\s*([0-9* ]+);", limits_h)
    need = eval(m.group(1)) if m else None
    if need is None: errs.append("limits.h: kEtcdRequestBytesMax not found")
    elif int(ef.get("max-request-bytes", "0") or 0) < need:
        errs.append(f"etcd --max-request-bytes {ef.get('max-request-bytes')} is below limits::kEtcdRequestBytesMax ({need})")
    if "quota-backend-bytes" not in ef: errs.append("etcd: set --quota-backend-bytes (deploy/README.md, etcd sizing)")
    want_endpoints = ",".join(f"{ename}-{i}.{esvc}.$(POD_NAMESPACE).svc:{eports.get('client')}" for i in range(members))
    if lf.get("replication") != "etcd": errs.append("ledgerd: --replication=etcd missing")
    if lf.get("etcd_endpoints") != want_endpoints:
        errs.append(f"ledgerd --etcd_endpoints does not list the etcd members:\n  have {lf.get('etcd_endpoints')}\n  want {want_endpoints}")
    if lf.get("node_name") != "$(POD_NAME)": errs.append("ledgerd --node_name must be $(POD_NAME) (unique, stable)")
    lports = cports(lsts)
    want_adv = f"$(POD_NAME).{lsvc}.$(POD_NAMESPACE).svc:{lports.get('grpc')}"
    if lf.get("advertise") != want_adv: errs.append(f"ledgerd --advertise {lf.get('advertise')}: want {want_adv}")
    tls = [k for k in ("etcd_ca_file", "etcd_cert_file", "etcd_key_file") if k in lf]
    if tls and len(tls) != 3: errs.append(f"ledgerd: --etcd_ca_file/--etcd_cert_file/--etcd_key_file all three or none (has {tls})")
    if scheme == "https" and len(tls) != 3: errs.append("etcd requires client certificates but ledgerd has no --etcd_*_file")
    if scheme == "http" and tls: errs.append("ledgerd speaks TLS to etcd but etcd serves plain http")
    for e in lc.get("env", []) + ec.get("env", []):
        if e["name"] == "POD_NAME" and e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != "metadata.name":
            errs.append("env POD_NAME must come from metadata.name")
print("\n".join(errs))
sys.exit(1 if errs else 0)
PYEOF
  ); then
    ok "k8s manifests consistent (deploy/${kdir%%:*})"
  else
    fail "k8s manifests consistent (deploy/${kdir%%:*})" "$out"
  fi
  done

  # --- kustomize renders both ------------------------------------------------
  if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
    for kdir in k8s k8s/cluster; do
      if out=$(kubectl kustomize "$DEPLOY/$kdir" 2>&1 >/dev/null); then ok "kubectl kustomize deploy/$kdir"; else fail "kubectl kustomize deploy/$kdir" "$out"; fi
    done
  else
    skip "kubectl kustomize" "kubectl not installed (not in Debian's archive)"
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
# The cluster's ledgerd: the same command, every image flag, then its own.
csts = [x for x in yaml.safe_load_all(open(os.path.join(d, "k8s/cluster/statefulset.yaml"))) if x][0]
cc = csts["spec"]["template"]["spec"]["containers"][0]
if cc.get("command", []) != c.get("command", []):
    errs.append("deploy/k8s/cluster StatefulSet command differs from deploy/k8s's")
missing = [f for f in kflags if f not in cc["args"]]
if missing: errs.append(f"deploy/k8s/cluster StatefulSet lacks the image's flags {missing}")
if sorted(p["containerPort"] for p in cc["ports"]) != sorted(p["containerPort"] for p in c["ports"]):
    errs.append("deploy/k8s/cluster StatefulSet ports differ from deploy/k8s's")
expose = sorted(int(p) for line in re.findall(r"^EXPOSE\s+(.*)$", src, re.M) for p in line.split())
cports = sorted(p["containerPort"] for p in c["ports"])
if expose != cports: errs.append(f"EXPOSE {expose} != containerPorts {cports}")
if not re.search(r"--uid 10001", src): errs.append("Dockerfile: user is not uid 10001")
# The build stage installs every build package tools/lib/common.sh names
# (PL_PACKAGES), except what only tests or a git checkout need.
common = open(os.path.join(d, "..", "tools", "lib", "common.sh")).read()
pkgs = re.search(r"^PL_PACKAGES=\((.*?)\)", common, re.S | re.M).group(1)
pkgs = {w for line in pkgs.splitlines() for w in line.split("#")[0].split()}
build_stage = src.split(" AS build", 1)[1].split(" AS runtime", 1)[0]
not_for_the_image = {"build-essential", "git", "libgtest-dev", "libgmock-dev"}
absent = sorted(p for p in pkgs - not_for_the_image
                if not re.search(r"(?<![\w.+-])" + re.escape(p) + r"(?![\w.+-])", build_stage))
if absent: errs.append(f"Dockerfile build stage lacks {absent} (tools/lib/common.sh PL_PACKAGES)")
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
  # The 3-node install: the same unit with the replication drop-in.
  mkdir -p "$R/etc/systemd/system/partnerledger.service.d"
  cp "$DEPLOY/systemd/cluster/replication.conf" "$R/etc/systemd/system/partnerledger.service.d/"
  out=$(systemd-analyze verify --root="$R" "$R/etc/systemd/system/partnerledger.service" 2>&1)
  rc=$?
  if [ $rc -eq 0 ] && [ -z "$out" ]; then
    ok "systemd-analyze verify partnerledger.service + cluster/replication.conf"
  else
    fail "systemd-analyze verify partnerledger.service + cluster/replication.conf (rc=$rc)" "$out"
  fi
  rm -rf "$R/etc/systemd/system/partnerledger.service.d"
  if command -v systemd-sysusers >/dev/null 2>&1; then
    if out=$(systemd-sysusers --dry-run --root="$R" "$DEPLOY/systemd/partnerledger.sysusers.conf" 2>&1); then
      ok "systemd-sysusers --dry-run partnerledger.sysusers.conf"
    else
      fail "systemd-sysusers --dry-run partnerledger.sysusers.conf" "$out"
    fi
  fi
fi

# --- the 3-node install's files agree with each other ------------------------
if [ -z "$PY" ]; then
  skip "systemd/cluster files consistent" "no python3"
else
  ETCD_BIN=${PL_ETCD:-/usr/bin/etcd}
  etcd_help=""
  if [ -x "$ETCD_BIN" ]; then etcd_help=$("$ETCD_BIN" --help 2>&1 || true); fi
  if out=$(ETCD_HELP="$etcd_help" "$PY" - "$DEPLOY" "$ROOT/include/partnerledger/limits.h" 2>&1 <<'PYEOF'
import os, re, sys
d, limits_h = sys.argv[1], open(sys.argv[2]).read()
errs = []
def envfile(path):
    out = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith("#"):
            k, _, v = line.partition("=")
            out[k] = v
    return out
def execstart(text):
    m = re.search(r"^ExecStart=(\S.*?[^\\])$", text, re.M | re.S)
    return m.group(1).replace("\\\n", " ").split() if m else []
unit = open(os.path.join(d, "systemd/partnerledger.service")).read()
dropin = open(os.path.join(d, "systemd/cluster/replication.conf")).read()
env = envfile(os.path.join(d, "systemd/cluster/cluster.env.example"))
etcd = envfile(os.path.join(d, "systemd/cluster/etcd.default.example"))
base = [a for a in execstart(unit) if a != "$LEDGERD_ARGS"]
drop = execstart(dropin)
if drop[:len(base)] != base:
    errs.append("replication.conf's ExecStart must start with partnerledger.service's (same binary and flags)")
if not drop or drop[-1] != "$LEDGERD_ARGS": errs.append("replication.conf's ExecStart must end with $LEDGERD_ARGS")
for var in re.findall(r"\$\{([A-Z_]+)\}", " ".join(drop)):
    if var not in env: errs.append(f"replication.conf uses ${{{var}}}, which cluster.env.example does not set")
for cred in re.findall(r"%d/([\w.-]+)", " ".join(drop)):
    if not re.search(rf"^LoadCredential={re.escape(cred)}:", unit + dropin, re.M):
        errs.append(f"replication.conf reads %d/{cred} but no LoadCredential= provides it")
help_text = os.environ.get("ETCD_HELP", "")
for k, v in etcd.items():
    if not k.startswith("ETCD_"): errs.append(f"etcd.default.example: {k} is not an ETCD_ variable"); continue
    flag = "--" + k[5:].lower().replace("_", "-")
    if help_text and not re.search(rf"^\s*{re.escape(flag)}\b", help_text, re.M):
        errs.append(f"etcd.default.example: {k} ({flag}) is not a flag of this etcd")
m = re.search(r"kEtcdRequestBytesMax\s*=\s*([0-9* ]+);", limits_h)
need = eval(m.group(1)) if m else 0
if int(etcd.get("ETCD_MAX_REQUEST_BYTES", "0")) < need:
    errs.append(f"ETCD_MAX_REQUEST_BYTES is below limits::kEtcdRequestBytesMax ({need})")
if "ETCD_QUOTA_BACKEND_BYTES" not in etcd: errs.append("etcd.default.example: set ETCD_QUOTA_BACKEND_BYTES")
peer = etcd.get("ETCD_INITIAL_ADVERTISE_PEER_URLS", "")
if f"{etcd.get('ETCD_NAME')}={peer}" not in etcd.get("ETCD_INITIAL_CLUSTER", "").split(","):
    errs.append("ETCD_INITIAL_CLUSTER does not name this member (ETCD_NAME=ETCD_INITIAL_ADVERTISE_PEER_URLS)")
members = etcd.get("ETCD_INITIAL_CLUSTER", "").split(",")
if len(members) % 2 != 1: errs.append(f"ETCD_INITIAL_CLUSTER has {len(members)} members: use an odd number")
client = etcd.get("ETCD_ADVERTISE_CLIENT_URLS", "")
scheme, _, hostport = client.partition("://")
endpoints = env.get("PL_ETCD_ENDPOINTS", "").split(",")
if hostport not in endpoints: errs.append(f"PL_ETCD_ENDPOINTS does not list this member's {hostport}")
if len(endpoints) != len(members): errs.append(f"PL_ETCD_ENDPOINTS lists {len(endpoints)} members, ETCD_INITIAL_CLUSTER {len(members)}")
tls = all(f in " ".join(drop) for f in ("--etcd_ca_file=", "--etcd_cert_file=", "--etcd_key_file="))
if etcd.get("ETCD_CLIENT_CERT_AUTH") == "true" and not tls: errs.append("etcd requires client certificates but ledgerd has no --etcd_*_file")
if (scheme == "https") != tls: errs.append(f"etcd serves {scheme} but ledgerd's TLS to etcd is {'on' if tls else 'off'}")
if not env.get("PL_ETCD_PREFIX", "").startswith("/") or env["PL_ETCD_PREFIX"].endswith("/"):
    errs.append("PL_ETCD_PREFIX must start with '/' and not end with one")
print("\n".join(errs))
sys.exit(1 if errs else 0)
PYEOF
  ); then
    ok "systemd/cluster files consistent (drop-in, cluster.env, etcd.default${etcd_help:+, etcd flags})"
  else
    fail "systemd/cluster files consistent" "$out"
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
  elif grep -q 'field kubernetes_sd_configs not found' <<<"$out"; then
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
    for f in "$DEPLOY/k8s/statefulset.yaml" "$DEPLOY/k8s/cluster/statefulset.yaml"; do
      sed -n '/^ *args:/,/^ *ports:/p' "$f" | grep -v '^ *#'
    done
    sed -n '/^ *args:/,/^ *securityContext:/p' "$DEPLOY/k8s/cluster/restore-pod.example.yaml" | grep -v '^ *#'
    for f in "$UNIT" "$DEPLOY"/systemd/cluster/*.conf; do
      sed -n '/^ExecStart=./,/[^\\]$/p' "$f"
    done
    grep -h '^LEDGERD_ARGS=' "$DEPLOY"/systemd/*.example "$DEPLOY"/systemd/cluster/*.example 2>/dev/null
  } | grep -o -- '--[a-z_]*=' | sed 's/^--//; s/=$//' | sort -u
}
if [ -z "$LEDGERD" ] || [ ! -x "$LEDGERD" ]; then
  skip "ledgerd knows every flag deploy/ uses" "no ledgerd binary (build it, or set LEDGERD=)"
else
  help=$("$LEDGERD" --helpfull 2>&1 || true)
  missing=""
  for fl in $(used_flags); do
    if ! grep -q -- "--$fl " <<<"$help"; then missing="$missing --$fl"; fi
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
    if ! grep -q -- "--$fl" <<<"$help"; then missing="$missing --$fl"; fi
  done
  if [ -z "$missing" ]; then
    ok "ledgerctl health knows the readiness probe's options ($LEDGERCTL)"
  else
    fail "ledgerctl health knows the readiness probe's options ($LEDGERCTL)" "not in \`ledgerctl health --help\`:$missing"
  fi
fi

# --- metric names exported by a real ledgerd --------------------------------
# With etcd installed, ledgerd runs with --replication=etcd against one
# loopback etcd member, so the replication gauges are exported too, and the
# etcd_* series the alert rules use are checked against that member's /metrics.
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
if [ -z "$LEDGERD" ] || [ ! -x "$LEDGERD" ] || [ -z "$PY" ]; then
  skip "ledgerd exports every metric deploy/ uses" "no ledgerd binary or no python3"
else
  ETCD_BIN=${PL_ETCD:-/usr/bin/etcd}
  repl_args=()
  epid=""
  etcd_metrics=""
  if [ -x "$ETCD_BIN" ]; then
    ec=$(free_port); ep=$(free_port); em=$(free_port)
    "$ETCD_BIN" --name=m0 --data-dir="$TMP/etcd" \
      --listen-client-urls="http://127.0.0.1:$ec" --advertise-client-urls="http://127.0.0.1:$ec" \
      --listen-peer-urls="http://127.0.0.1:$ep" --initial-advertise-peer-urls="http://127.0.0.1:$ep" \
      --initial-cluster="m0=http://127.0.0.1:$ep" --listen-metrics-urls="http://127.0.0.1:$em" \
      --log-level=warn --logger=zap >"$TMP/etcd.log" 2>&1 &
    epid=$!
    etcd_metrics="http://127.0.0.1:$em"
    # ledgerd waits for etcd by itself (it follows, then leads once etcd answers).
    repl_args=(--replication=etcd "--etcd_endpoints=127.0.0.1:$ec" --node_name=check)
  fi
  "$LEDGERD" --listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 \
    --data_dir="$TMP/metrics-data" --backup_root= --port_file="$TMP/metrics-port" \
    "${repl_args[@]}" >"$TMP/metrics-ledgerd.log" 2>&1 &
  mpid=$!
  for _ in $(seq 1 600); do [ -s "$TMP/metrics-port" ] && break; sleep 0.05; done
  if out=$("$PY" - "$DEPLOY" "$TMP/metrics-ledgerd.log" "$etcd_metrics" 2>&1 <<'PYEOF'
import json, os, re, sys, time, urllib.request, yaml
deploy, log, etcd_url = sys.argv[1], sys.argv[2], sys.argv[3]
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
def names(url):
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    out = set()
    for line in text.splitlines():
        m = re.match(r"# TYPE (\S+) ", line) or re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", line)
        if m:
            out.add(m.group(1))
    return out
exported = names(f"http://127.0.0.1:{port}/metrics")
used = {}
for root, _, files in os.walk(deploy):
    for f in files:
        path = os.path.join(root, f)
        try:
            body = open(path).read()
        except UnicodeDecodeError:
            continue
        for name in re.findall(r"\bpartnerledger_[a-z0-9_]*[a-z0-9]\b", body):
            used.setdefault(name, set()).add(os.path.relpath(path, deploy))
errs = []
for n in sorted(n for n in used if n not in exported):
    if not etcd_url and n.startswith("partnerledger_replication_"):
        print(f"(not checked without etcd: {n})")
        continue
    errs.append(f"{n} (used in {', '.join(sorted(used[n]))}) is not in /metrics")
if not used:
    errs.append("no metric names found in deploy/ (the check would prove nothing)")
# etcd's series in the alert rules and their tests.
if etcd_url:
    prom = os.path.join(deploy, "prometheus")
    rules = yaml.safe_load(open(os.path.join(prom, "alerts.yml")))
    tests = yaml.safe_load(open(os.path.join(prom, "alerts.test.yml")))
    text = " ".join(r["expr"] for g in rules["groups"] for r in g["rules"])
    text += " " + " ".join(s["series"] for t in tests["tests"] for s in t.get("input_series", []))
    want = set(re.findall(r"\betcd_[a-z0-9_]+", text))
    have = set()
    for _ in range(100):
        try:
            have = names(etcd_url + "/metrics")
            break
        except OSError:
            time.sleep(0.1)
    if not want:
        errs.append("no etcd_* series in the alert rules (expected the etcd group)")
    for n in sorted(want - have):
        errs.append(f"{n} (alert rules) is not in etcd's /metrics")
print("\n".join(errs))
sys.exit(1 if errs else 0)
PYEOF
  ); then
    ok "ledgerd${etcd_metrics:+ (replicated) and etcd} export every metric deploy/ uses ($LEDGERD)"
  else
    fail "ledgerd${etcd_metrics:+ (replicated) and etcd} export every metric deploy/ uses ($LEDGERD)" "$out"
  fi
  kill "$mpid" 2>/dev/null || true
  wait "$mpid" 2>/dev/null || true
  if [ -n "$epid" ]; then
    kill "$epid" 2>/dev/null || true
    wait "$epid" 2>/dev/null || true
  fi
fi

echo "deploy-check: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
