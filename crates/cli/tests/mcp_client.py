#!/usr/bin/env python3
"""Drives `stockade serve` with the official MCP Python SDK, as an agent
harness would: list the tools, exec, a Python REPL on a terminal, a session
on pipes, narrowing and an attempt to widen, bad input. Every check that
fails is printed; the exit status is the number of failures.

    mcp_client.py STOCKADE WORKSPACE
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

STOCKADE, WORKSPACE = sys.argv[1], sys.argv[2]
failures = []


def check(ok, what, detail=""):
    print(("ok   " if ok else "FAIL ") + what + (f": {detail}" if not ok else ""), flush=True)
    if not ok:
        failures.append(what)


def text(result):
    return "".join(getattr(c, "text", "") for c in result.content)


def data(result):
    return result.structured_content if result.structured_content is not None else json.loads(text(result))


async def call(session, name, **arguments):
    return await session.call_tool(name, arguments)


async def read_until(session, sid, needle, cursor=0, limit=10.0):
    """Reads from cursor until needle shows up (or the session exits)."""
    seen = ""
    deadline = asyncio.get_running_loop().time() + limit
    while needle not in seen and asyncio.get_running_loop().time() < deadline:
        r = data(await call(session, "session_read", session_id=sid, cursor=cursor, wait_ms=1000))
        seen += r["output"]
        cursor = r["cursor"]
        if r["exited"]:
            return seen, cursor, r
    return seen, cursor, None


async def main():
    params = StdioServerParameters(command=STOCKADE, args=["serve"], cwd=WORKSPACE)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()

            tools = {t.name: t for t in (await session.list_tools()).tools}
            expected = {"exec", "session_start", "session_write", "session_read", "session_resize",
                        "session_signal", "session_close", "sessions", "explain"}
            check(set(tools) == expected, "list_tools names the nine tools", sorted(tools))
            check(all(tools[n].description for n in expected), "every tool is described")
            check("command" in tools["exec"].input_schema["properties"], "exec's schema names command")

            # exec: the record, with both streams kept apart.
            r = await call(session, "exec", command=["sh", "-c", "echo out; echo err >&2; exit 3"])
            d = data(r)
            check(not r.is_error and d["exit_code"] == 3, "exec returns the exit code", d)
            check(d["stdout"] == "out\n" and d["stderr"] == "err\n", "exec keeps stdout and stderr apart", d)
            check("enforcement" in d and "denials" in d and "duration_ms" in d, "exec returns the record")

            d = data(await call(session, "exec", command=["sh", "-c", "cat; echo $GREETING"],
                                stdin="piped\n", env={"GREETING": "hi"}))
            check(d["stdout"] == "piped\nhi\n", "exec passes stdin and env", d)

            d = data(await call(session, "exec", command=["sleep", "10"], timeout_ms=300))
            check(d["timed_out"] and d["exit_code"] == 124, "exec's timeout kills the command", d)

            # The sandbox holds: outside the workspace nothing is written.
            outside = os.path.join(os.path.dirname(WORKSPACE), "outside-mcp")
            d = data(await call(session, "exec", command=["sh", "-c", f"echo x > {outside}"]))
            check(d["exit_code"] != 0 and not os.path.exists(outside), "a write outside the workspace is refused", d)
            d = data(await call(session, "exec", command=["sh", "-c", "echo x > inside"]))
            check(d["exit_code"] == 0 and os.path.exists(os.path.join(WORKSPACE, "inside")),
                  "a write in the workspace works", d)

            # Narrowing works; widening is a tool error that says so.
            os.makedirs(os.path.join(WORKSPACE, "sub"), exist_ok=True)
            d = data(await call(session, "exec", command=["sh", "-c", "echo x > sub/ok; echo x > no"],
                                writable=["sub"]))
            check(os.path.exists(os.path.join(WORKSPACE, "sub", "ok"))
                  and not os.path.exists(os.path.join(WORKSPACE, "no")), "writable narrows the writable roots", d)
            for args in ({"network": "full"}, {"writable": ["/"]}, {"writable": [os.path.dirname(WORKSPACE)]}):
                r = await call(session, "exec", command=["true"], **args)
                check(r.is_error and "only narrow" in text(r), f"widening with {args} is refused", text(r))

            # A Python REPL on a terminal: write, read, resize, signal, close.
            d = data(await call(session, "session_start", command=["python3", "-i", "-q"], tty=True, rows=24, cols=80))
            sid = d["session_id"]
            await call(session, "session_write", session_id=sid, data="print(6 * 7)\n")
            seen, cursor, _ = await read_until(session, sid, "42")
            check("42" in seen, "the REPL answers", seen)
            r = await call(session, "session_resize", session_id=sid, rows=40, cols=100)
            check(not r.is_error, "resize a terminal session", text(r))
            await call(session, "session_write", session_id=sid,
                       data="import shutil; print(shutil.get_terminal_size())\n")
            seen, cursor, _ = await read_until(session, sid, "columns=100, lines=40", cursor)
            check("columns=100, lines=40" in seen, "the program sees the new size", seen)
            await call(session, "session_write", session_id=sid, data="import time; time.sleep(30)\n")
            await asyncio.sleep(0.5)
            r = await call(session, "session_signal", session_id=sid, signal="SIGINT")
            seen, cursor, _ = await read_until(session, sid, "KeyboardInterrupt", cursor)
            check(not r.is_error and "KeyboardInterrupt" in seen, "SIGINT interrupts the REPL, which goes on", seen)
            listed = data(await call(session, "sessions"))["sessions"]
            check([s["session_id"] for s in listed] == [sid] and listed[0]["running"], "sessions lists it", listed)
            d = data(await call(session, "session_close", session_id=sid))
            check("exit_code" in d, "session_close returns the final record", d)
            check(data(await call(session, "sessions"))["sessions"] == [], "a closed session is gone")

            # A session on pipes: its output to EOF stays readable after it exits.
            sid = data(await call(session, "session_start", command=["sh", "-c", "read x; echo got $x; exit 7"]))["session_id"]
            await call(session, "session_write", session_id=sid, data="abc\n")
            seen, cursor, last = await read_until(session, sid, "got abc")
            if last is None:
                _, _, last = await read_until(session, sid, "\0", cursor)
            check("got abc" in seen and last and last["exited"] and last["exit_code"] == 7,
                  "a pipe session's output and exit code", (seen, last))
            r = await call(session, "session_resize", session_id=sid, rows=10, cols=10)
            check(r.is_error and "pipes" in text(r), "resizing a pipe session is an error", text(r))
            r = await call(session, "session_write", session_id=sid, data="more\n")
            check(r.is_error and "ended" in text(r), "writing to an exited session is an error", text(r))
            await call(session, "session_close", session_id=sid)

            # Bad input: a clear error each, and the server carries on.
            r = await call(session, "session_read", session_id="nope")
            check(r.is_error and "no session" in text(r), "an unknown session id is an error", text(r))
            r = await call(session, "session_signal", session_id="nope", signal="SIGFOO")
            check(r.is_error and "SIGINT" in text(r), "an unknown signal is an error", text(r))
            r = await call(session, "exec", command=[])
            check(r.is_error, "an empty command is an error", text(r))
            try:
                r = await call(session, "exec", bogus=1)
                check(r.is_error, "malformed arguments are an error", text(r))
            except Exception as e:  # a protocol error is fine too
                check("command" in str(e) or "bogus" in str(e) or "invalid" in str(e).lower(),
                      "malformed arguments are an error", str(e))

            r = await call(session, "explain")
            check(not r.is_error and WORKSPACE in text(r), "explain shows the policy", text(r)[:300])
            d = data(await call(session, "exec", command=["echo", "still here"]))
            check(d["stdout"] == "still here\n", "the server survives all of the above", d)
    print(f"{len(failures)} failures", flush=True)
    return len(failures)


sys.exit(asyncio.run(main()))
