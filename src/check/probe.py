# Pathshala check probe: runs inside a learner's sandbox, as root, in one exec per step.
# It reads the step's checks as JSON on stdin and prints one JSON result per check.
# It is sent with every run (python3 -I -S -c), so nothing in the sandbox can change it,
# and it never passes check text through a shell unless the check *is* a shell command
# written by the lesson's author (command, script).
import grp, json, os, pwd, re, stat, subprocess, sys
# ssl, socket, urllib and datetime are imported by the checks that need them: they cost
# more start-up time than most steps' checks take to run.

CLEAN_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "LANG": "C.UTF-8", "HOME": "/root"}
LIMIT = 2000  # characters of actual output reported back


def short(text):
    text = text if isinstance(text, str) else text.decode("utf-8", "replace")
    text = text.rstrip("\n")
    return text if len(text) <= LIMIT else text[:LIMIT] + "..."


class Failed(Exception):
    def __init__(self, expected, actual):
        super().__init__(expected)
        self.expected, self.actual = expected, actual


def expect(ok, expected, actual):
    if not ok:
        raise Failed(expected, actual)


def match_text(rule, text, what):
    """rule: {contains, not_contains, equals, matches}; every given part must hold."""
    for needle in rule.get("contains", []):
        expect(needle in text, "%s contains %r" % (what, needle), short(text))
    for needle in rule.get("not_contains", []):
        expect(needle not in text, "%s does not contain %r" % (what, needle), short(text))
    if rule.get("equals") is not None:
        expect(text.strip() == rule["equals"].strip(), "%s is %r" % (what, rule["equals"]), short(text))
    if rule.get("matches"):
        expect(re.search(rule["matches"], text, re.M) is not None,
               "%s matches /%s/" % (what, rule["matches"]), short(text))


def run_as(user, argv, timeout, stdin=b""):
    """Runs argv as user with a clean environment: no .bashrc, aliases or PATH tricks."""
    env = dict(CLEAN_ENV)
    if user != "root":
        entry = pwd.getpwnam(user)
        env["HOME"] = entry.pw_dir
        env["USER"] = env["LOGNAME"] = user
        argv = ["setpriv", "--reuid", str(entry.pw_uid), "--regid", str(entry.pw_gid),
                "--init-groups", "--"] + argv
    return subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout, env=env,
                          cwd=env["HOME"] if os.path.isdir(env["HOME"]) else "/")


def check_file(c, timeout):
    path = c["path"]
    exists = os.path.lexists(path)
    if not c.get("exists", True):
        expect(not exists, "%s does not exist" % path, "it exists")
        return "%s does not exist" % path
    expect(exists, "%s exists" % path, "no such file or directory")
    info = os.lstat(path)
    kind = ("symlink" if stat.S_ISLNK(info.st_mode) else "directory" if stat.S_ISDIR(info.st_mode)
            else "file" if stat.S_ISREG(info.st_mode) else "other")
    if c.get("type"):
        expect(kind == c["type"], "%s is a %s" % (path, c["type"]), "it is a %s" % kind)
    if c.get("mode"):
        actual = "%04o" % stat.S_IMODE(info.st_mode)
        expect(actual == c["mode"].rjust(4, "0"), "mode %s" % c["mode"], "mode " + actual)
    if c.get("owner"):
        owner = pwd.getpwuid(info.st_uid).pw_name if has_uid(info.st_uid) else str(info.st_uid)
        expect(owner == c["owner"], "owner %s" % c["owner"], "owner " + owner)
    if c.get("group"):
        group = grp.getgrgid(info.st_gid).gr_name if has_gid(info.st_gid) else str(info.st_gid)
        expect(group == c["group"], "group %s" % c["group"], "group " + group)
    if c.get("content"):
        with open(path, "rb") as f:
            match_text(c["content"], f.read(1 << 20).decode("utf-8", "replace"), "the file")
    return "%s is as expected" % path


def has_uid(uid):
    try:
        pwd.getpwuid(uid)
        return True
    except KeyError:
        return False


def has_gid(gid):
    try:
        grp.getgrgid(gid)
        return True
    except KeyError:
        return False


def check_command(c, timeout):
    done = run_as(c.get("user", "root"), ["bash", "--noprofile", "--norc", "-c", c["run"]], timeout)
    out, err = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
    if c.get("exit") is not None:
        expect(done.returncode == c["exit"], "exit status %d" % c["exit"],
               "exit status %d%s" % (done.returncode, (": " + short(err.strip())) if err.strip() else ""))
    if c.get("stdout"):
        match_text(c["stdout"], out, "output")
    if c.get("stderr"):
        match_text(c["stderr"], err, "error output")
    return short(out.strip()) or "exit status %d" % done.returncode


def check_script(c, timeout):
    done = run_as(c.get("user", "root"), ["bash", "--noprofile", "--norc", "-c", c["run"]], timeout)
    message = short((done.stdout + done.stderr).decode("utf-8", "replace").strip())
    expect(done.returncode == 0, "the check script succeeds",
           message or "exit status %d" % done.returncode)
    return message or "ok"


_ipv4_only = False


def ca_context(ssl, ca_file):
    """A TLS context trusting `ca_file` (or the system's CAs); a missing file is a failure
    that names it."""
    try:
        return ssl.create_default_context(cafile=ca_file)
    except OSError as e:
        raise Failed("a CA certificate in %s" % ca_file, (e.strerror or str(e)).lower())


def resolve_ipv4_when_ipv6_is_off():
    """Sandboxes run with IPv6 off, yet /etc/hosts names ::1 localhost: a connection tries
    it last and reports its error ("Cannot assign requested address") instead of the one
    that matters ("Connection refused"). With IPv6 off, names resolve to IPv4 only."""
    global _ipv4_only
    if _ipv4_only:
        return
    try:
        with open("/proc/sys/net/ipv6/conf/all/disable_ipv6") as f:
            if f.read().strip() != "1":
                return
    except OSError:
        pass  # no IPv6 at all
    import socket
    resolve = socket.getaddrinfo

    def ipv4(host, port, family=0, *args, **kwargs):
        return resolve(host, port, family or socket.AF_INET, *args, **kwargs)

    socket.getaddrinfo = ipv4
    _ipv4_only = True


def check_http(c, timeout):
    import ssl, urllib.error, urllib.request
    resolve_ipv4_when_ipv6_is_off()
    request = urllib.request.Request(c["url"], method=c.get("method", "GET"),
                                     data=c.get("send", "").encode() or None,
                                     headers=c.get("send_headers", {}))
    context = None
    if c["url"].startswith("https"):
        context = ca_context(ssl, c.get("ca_file"))
        if c.get("insecure"):
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                         NoRedirect())
    try:
        response = opener.open(request, timeout=timeout)
        status, headers, body = response.status, response.headers, response.read(1 << 20)
    except urllib.error.HTTPError as e:
        status, headers, body = e.code, e.headers, e.read(1 << 20)
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise Failed("an answer from %s" % c["url"], "no answer: %s" % reason)
    text = body.decode("utf-8", "replace")
    expect(status == c.get("status", 200), "status %d" % c.get("status", 200),
           "status %d" % status)
    for name, value in c.get("headers", {}).items():
        actual = headers.get(name)
        expect(actual is not None and value in actual, "header %s: %s" % (name, value),
               "%s: %s" % (name, actual) if actual else "no %s header" % name)
    if c.get("body"):
        match_text(c["body"], text, "the body")
    return "status %d" % status


def listening_ports():
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if fields[3] == "0A":  # LISTEN
                        ports.add(int(fields[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return ports


def check_port(c, timeout):
    c["port"] = int(c["port"])
    ports = listening_ports()
    listening = c["port"] in ports
    shown = ", ".join(str(p) for p in sorted(ports)) or "none"
    if c.get("listening", True):
        expect(listening, "something listening on port %d" % c["port"], "listening ports: " + shown)
        return "port %d is listening" % c["port"]
    expect(not listening, "nothing listening on port %d" % c["port"], "listening ports: " + shown)
    return "port %d is free" % c["port"]


def processes():
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
            with open("/proc/%s/comm" % pid) as f:
                comm = f.read().strip()
            user = pwd.getpwuid(os.stat("/proc/" + pid).st_uid).pw_name
            found.append((int(pid), comm, cmdline, user))
        except (OSError, KeyError):
            pass
    return found


def check_process(c, timeout):
    pattern = c["name"]
    mine = os.getpid()
    hits = [p for p in processes() if p[0] != mine and (p[1] == pattern or re.search(pattern, p[2]))]
    if c.get("user"):
        hits = [p for p in hits if p[3] == c["user"]]
    who = " as %s" % c["user"] if c.get("user") else ""
    if c.get("running", True):
        expect(hits, "a running process %s%s" % (pattern, who), "no such process")
        return "%d matching process(es)" % len(hits)
    expect(not hits, "no process %s%s" % (pattern, who), ", ".join(p[2][:80] for p in hits[:3]))
    return "no matching process"


def service_state(name):
    """ActiveState and UnitFileState in one systemctl call."""
    done = subprocess.run(["systemctl", "show", "-p", "ActiveState", "-p", "UnitFileState", name],
                          capture_output=True, env=CLEAN_ENV, timeout=20)
    pairs = (line.split("=", 1) for line in done.stdout.decode("utf-8", "replace").splitlines())
    state = {k: v for k, v in (p for p in pairs if len(p) == 2)}
    return state.get("ActiveState") or "unknown", state.get("UnitFileState") or "unknown"


def check_service(c, timeout):
    name = c["name"]
    active, enabled = service_state(name)
    if c.get("active") is not None:
        expect((active == "active") == c["active"],
               "%s is %s" % (name, "active" if c["active"] else "not active"),
               "%s is %s" % (name, active))
    if c.get("enabled") is not None:
        expect((enabled == "enabled") == c["enabled"],
               "%s is %s" % (name, "enabled" if c["enabled"] else "not enabled"),
               "%s is %s" % (name, enabled))
    return "%s is %s and %s" % (name, active, enabled)


def check_package(c, timeout):
    done = subprocess.run(["dpkg-query", "-W", "-f=${Status} ${Version}", c["name"]],
                          capture_output=True, env=CLEAN_ENV, timeout=timeout)
    text = done.stdout.decode().strip()
    installed = text.startswith("install ok installed")
    if c.get("installed", True):
        expect(installed, "package %s installed" % c["name"], text or "not installed")
        return "%s %s" % (c["name"], text.rsplit(" ", 1)[-1])
    expect(not installed, "package %s not installed" % c["name"], "installed")
    return "%s is not installed" % c["name"]


def check_user(c, timeout):
    name = c["name"]
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        entry = None
    if not c.get("exists", True):
        expect(entry is None, "no user %s" % name, "user %s exists" % name)
        return "no user %s" % name
    expect(entry is not None, "user %s exists" % name, "no such user")
    groups = sorted(g.gr_name for g in grp.getgrall() if name in g.gr_mem)
    groups.append(grp.getgrgid(entry.pw_gid).gr_name)
    for group in c.get("groups", []):
        expect(group in groups, "%s is in group %s" % (name, group), "groups: " + ", ".join(sorted(set(groups))))
    if c.get("shell"):
        expect(entry.pw_shell == c["shell"], "shell %s" % c["shell"], "shell " + entry.pw_shell)
    if c.get("home"):
        expect(entry.pw_dir == c["home"], "home %s" % c["home"], "home " + entry.pw_dir)
    return "user %s is as expected" % name


def check_group(c, timeout):
    name = c["name"]
    try:
        entry = grp.getgrnam(name)
    except KeyError:
        entry = None
    if not c.get("exists", True):
        expect(entry is None, "no group %s" % name, "group %s exists" % name)
        return "no group %s" % name
    expect(entry is not None, "group %s exists" % name, "no such group")
    members = set(entry.gr_mem) | {p.pw_name for p in pwd.getpwall() if p.pw_gid == entry.gr_gid}
    for member in c.get("members", []):
        expect(member in members, "%s is a member of %s" % (member, name),
               "members: " + (", ".join(sorted(members)) or "none"))
    return "group %s is as expected" % name


def crontab_lines(user):
    lines = []
    done = subprocess.run(["crontab", "-l", "-u", user], capture_output=True, env=CLEAN_ENV, timeout=10)
    lines += done.stdout.decode("utf-8", "replace").splitlines()
    if user == "root":
        for path in ["/etc/crontab"] + sorted("/etc/cron.d/" + n for n in os.listdir("/etc/cron.d")):
            try:
                with open(path) as f:
                    lines += f.read().splitlines()
            except OSError:
                pass
    return [l for l in lines if l.strip() and not l.lstrip().startswith("#")]


def check_cron(c, timeout):
    user = c.get("user", "root")
    lines = crontab_lines(user)
    hits = [l for l in lines if re.search(c["matches"], l)]
    expect(hits, "a crontab entry of %s matching /%s/" % (user, c["matches"]),
           "; ".join(lines[:5]) or "no crontab entries")
    return hits[0]


def check_tls(c, timeout):
    import datetime, socket, ssl
    resolve_ipv4_when_ipv6_is_off()
    if c.get("file"):
        try:
            with open(c["file"]) as f:
                pem = f.read()
        except OSError as e:
            raise Failed("a certificate in %s" % c["file"], e.strerror.lower())
        cert = ssl._ssl._test_decode_cert(c["file"])
        where = c["file"]
    else:
        host, port = c["host"], int(c.get("port", 443))
        where = "%s:%d" % (host, port)
        context = ca_context(ssl, c.get("ca_file"))
        if c.get("insecure"):
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        try:
            with socket.create_connection((host, port), timeout=timeout) as raw:
                with context.wrap_socket(raw, server_hostname=host) as tls:
                    der = tls.getpeercert(binary_form=True)
        except ssl.SSLCertVerificationError as e:
            raise Failed("a certificate at %s that verifies" % where, e.verify_message or str(e))
        except OSError as e:
            raise Failed("a TLS server at %s" % where, str(e))
        path = "/tmp/.pathshala-probe-cert.pem"
        with open(path, "w") as f:
            f.write(ssl.DER_cert_to_PEM_cert(der))
        cert = ssl._ssl._test_decode_cert(path)
        os.unlink(path)
    names = [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"]
    for name in c.get("names", []):
        expect(name in names, "a certificate for %s" % name, "names: " + (", ".join(names) or "none"))
    issuer = ", ".join("%s=%s" % kv for rdn in cert.get("issuer", ()) for kv in rdn)
    if c.get("issuer"):
        expect(c["issuer"] in issuer, "issuer containing %r" % c["issuer"], "issuer " + issuer)
    expires = datetime.datetime.strptime(cert["notAfter"], "%b %d %H:%M:%S %Y %Z")
    days = (expires - datetime.datetime.utcnow()).days
    if c.get("min_days") is not None:
        expect(days >= c["min_days"], "valid for at least %d more days" % c["min_days"],
               "expires %s (%d days)" % (cert["notAfter"], days))
    return "%s: %s, expires in %d days" % (where, ", ".join(names), days)


KINDS = {"file": check_file, "command": check_command, "script": check_script,
         "http": check_http, "port": check_port, "process": check_process,
         "service": check_service, "package": check_package, "user": check_user,
         "group": check_group, "cron": check_cron, "tls": check_tls}


def main():
    checks = json.load(sys.stdin)
    for c in checks:
        result = {"passed": False, "expected": "", "actual": ""}
        try:
            result["actual"] = KINDS[c["kind"]](c, c.get("timeout", 10))
            result["passed"] = True
        except Failed as e:
            result["expected"], result["actual"] = e.expected, e.actual
        except subprocess.TimeoutExpired:
            result["expected"], result["actual"] = "an answer in %ss" % c.get("timeout", 10), "timed out"
        except Exception as e:  # a broken check must not hide the others
            result["expected"], result["actual"] = "the check to run", "%s: %s" % (type(e).__name__, e)
        print(json.dumps(result), flush=True)


main()
