#!/usr/bin/env python3
"""Reads and writes the Stemcheck plugin state that Ardour keeps in a session file.

Ardour 7 saves a VST3 plugin as
    <Processor type="vst3" name="Stemcheck" ...>
      <vst3 ...>
        <Port id="PARAM_ID" value="PLAIN_VALUE"/>   (one per input parameter, in index order)
        <chunk>BASE64</chunk>
      </vst3>
      <Controllable name="..." value="PLAIN_VALUE" parameter="INDEX"/> ...
    </Processor>
The chunk is a .vstpreset-style stream: "VST3", int32 version 1, the class id as 32 ASCII hex
digits, int64 offset of the chunk list; then the component state ('Comp') and controller state
('Cont') bytes; then "List", int32 count and per entry 4-byte id, int64 offset, int64 size
(all little-endian). The component state of a nice-plug plugin is its JSON state:
    {"version": "...", "params": {"<id>": {"f32": -6.0} | {"i32": 1} | {"bool": true} |
     {"string": "<enum variant id>"}, ...}, "fields": {"<name>": "<that field's own JSON>"}}
Parameters there are plain (not normalised) values. The VST3 parameter id of a nice-plug
parameter is a hash of its string id (see param_hash); Ardour's Port and Controllable values
are plain values too.

On load Ardour restores the Port values, the chunk and the Controllable values. With Ardour
7.3 a parameter changed in the chunk alone already wins, but `set` also writes the same plain
value into that parameter's Port and Controllable, so that no restore order can undo it.
"""

import argparse
import base64
import json
import struct
import sys
import xml.etree.ElementTree as ET

PLUGIN_NAME = "Stemcheck"


def param_hash(param_id):
    """VST3 parameter id that nice-plug derives from a string parameter id."""
    h = 0
    for b in param_id.encode("utf-8"):
        h = (h * 31 + b) & 0xFFFFFFFF
    return h & 0x7FFFFFFF


def decode_chunk(b64):
    """Returns (class_id_bytes, {chunk_id: bytes}) from an Ardour VST3 <chunk>."""
    raw = base64.b64decode(b64)
    if raw[:4] != b"VST3":
        raise ValueError("chunk does not start with 'VST3'")
    (version,) = struct.unpack_from("<i", raw, 4)
    class_id = raw[8:40]
    (list_offset,) = struct.unpack_from("<q", raw, 40)
    if version != 1 or raw[list_offset:list_offset + 4] != b"List":
        raise ValueError("unexpected chunk header (version %d, list at %d)" % (version, list_offset))
    (count,) = struct.unpack_from("<i", raw, list_offset + 4)
    chunks = {}
    pos = list_offset + 8
    for _ in range(count):
        cid = raw[pos:pos + 4].decode("ascii")
        offset, size = struct.unpack_from("<qq", raw, pos + 4)
        chunks[cid] = raw[offset:offset + size]
        pos += 20
    return class_id, chunks


def encode_chunk(class_id, chunks):
    """Inverse of decode_chunk; chunks is an ordered {chunk_id: bytes}."""
    body = bytearray(b"VST3" + struct.pack("<i", 1) + class_id + struct.pack("<q", 0))
    entries = []
    for cid, data in chunks.items():
        entries.append((cid, len(body), len(data)))
        body += data
    list_offset = len(body)
    struct.pack_into("<q", body, 40, list_offset)
    body += b"List" + struct.pack("<i", len(entries))
    for cid, offset, size in entries:
        body += cid.encode("ascii") + struct.pack("<qq", offset, size)
    return base64.b64encode(bytes(body)).decode("ascii")


def stemcheck_processors(root):
    """Yields (route_name, processor_element) for every Stemcheck VST3 insert."""
    for route in root.iter("Route"):
        for proc in route.findall("Processor"):
            if proc.get("type") == "vst3" and proc.get("name") == PLUGIN_NAME:
                yield route.get("name"), proc


def read_state(proc):
    """The plugin's JSON state (a dict) in one processor element."""
    chunk = proc.find("vst3/chunk")
    if chunk is None or not chunk.text:
        raise ValueError("processor has no <vst3><chunk>")
    _, chunks = decode_chunk(chunk.text.strip())
    if "Comp" not in chunks:
        raise ValueError("chunk has no component state")
    return json.loads(chunks["Comp"].decode("utf-8"))


def plain_of(value):
    """The plain number Ardour shows for a serialized parameter value."""
    kind, v = next(iter(value.items()))
    if kind == "bool":
        return 1.0 if v else 0.0
    if kind in ("f32", "i32"):
        return float(v)
    return None  # an enum saved by its string id: its index is unknown here


def write_state(proc, state):
    """Stores a JSON state into a processor element and keeps its Port and Controllable
    values in step with the parameters the state sets."""
    vst3 = proc.find("vst3")
    chunk = vst3.find("chunk")
    class_id, chunks = decode_chunk(chunk.text.strip())
    chunks["Comp"] = json.dumps(state, separators=(",", ":")).encode("utf-8")
    chunk.text = encode_chunk(class_id, chunks)

    ports = vst3.findall("Port")
    controllables = {c.get("parameter"): c for c in proc.findall("Controllable")}
    index_of = {p.get("id"): i for i, p in enumerate(ports)}
    for pid, value in state.get("params", {}).items():
        plain = plain_of(value)
        if plain is None:
            continue
        vst_id = str(param_hash(pid))
        for p in ports:
            if p.get("id") == vst_id:
                p.set("value", repr(plain))
        ctl = controllables.get(str(index_of.get(vst_id)))
        if ctl is not None:
            ctl.set("value", repr(plain))


def parse_assignments(items):
    out = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit("expected NAME=JSON, got %r" % item)
        k, v = item.split("=", 1)
        out[k] = json.loads(v)
    return out


def cmd_dump(args):
    root = ET.parse(args.session_file).getroot()
    found = {}
    for route, proc in stemcheck_processors(root):
        found[route] = read_state(proc)
    json.dump(found, sys.stdout, indent=1, sort_keys=True)
    print()


def cmd_check(args):
    """Compares one route's Stemcheck state with expected values; prints every mismatch."""
    root = ET.parse(args.session_file).getroot()
    states = [read_state(p) for r, p in stemcheck_processors(root) if r == args.route]
    if len(states) != 1:
        print("MISMATCH %s: expected one Stemcheck, found %d" % (args.route, len(states)))
        return 1
    state = states[0]
    proc = [p for r, p in stemcheck_processors(root) if r == args.route][0]
    ports = proc.findall("vst3/Port")
    lua = {}
    if args.lua_log:
        # "PARAM <route> <index> <label> <value>" lines printed by play_session.lua
        with open(args.lua_log) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 5 and parts[0] == "PARAM" and parts[1] == args.route:
                    lua[int(parts[2])] = float(parts[4])
    bad = 0
    for pid, want in parse_assignments(args.param).items():
        if not isinstance(want, str):
            # Ardour's own view of the parameter: its Port (by VST3 id) in the saved file, and
            # what the Lua parameter API read at that index after loading.
            vst_id = str(param_hash(pid))
            idx = [i for i, p in enumerate(ports) if p.get("id") == vst_id]
            if not idx:
                print("MISMATCH %s: Ardour knows no parameter %s (VST3 id %s)" % (args.route, pid, vst_id))
                bad += 1
            else:
                port_value = float(ports[idx[0]].get("value"))
                if abs(port_value - float(want)) > 1e-4:
                    print("MISMATCH %s: Ardour saved parameter %s as %s, expected %s" % (args.route, pid, port_value, want))
                    bad += 1
                if args.lua_log:
                    got = lua.get(idx[0])
                    if got is None or abs(got - float(want)) > 1e-4:
                        print("MISMATCH %s: Ardour's Lua API read parameter %s (index %d) as %s, expected %s"
                              % (args.route, pid, idx[0], got, want))
                        bad += 1
                    else:
                        print("ok %s: Ardour's Lua API reads %s = %s" % (args.route, pid, got))
        got = state.get("params", {}).get(pid)
        if got is None:
            print("MISMATCH %s: the saved state has no parameter %r" % (args.route, pid))
            bad += 1
            continue
        kind, value = next(iter(got.items()))
        if kind == "string" and not isinstance(want, str):
            # an enum saved by its variant id: its index was checked through Ardour above
            print("note %s: parameter %s is saved as enum id %r" % (args.route, pid, value))
            continue
        if isinstance(want, str):
            ok = kind == "string" and value.lower() == want.lower()
        else:
            ok = plain_of(got) is not None and abs(plain_of(got) - float(want)) < 1e-4
        if not ok:
            print("MISMATCH %s: parameter %s is %s, expected %s" % (args.route, pid, json.dumps(got), json.dumps(want)))
            bad += 1
    for name, want in parse_assignments(args.field).items():
        raw = state.get("fields", {}).get(name)
        if raw is None:
            print("MISMATCH %s: the saved state has no persisted field %r" % (args.route, name))
            bad += 1
            continue
        try:
            got = json.loads(raw)
        except ValueError:
            got = raw
        if got != want:
            print("MISMATCH %s: field %s is %s, expected %s" % (args.route, name, json.dumps(got), json.dumps(want)))
            bad += 1
    return 1 if bad else 0


def cmd_set(args):
    tree = ET.parse(args.session_file)
    params = parse_assignments(args.param)
    fields = parse_assignments(args.field)
    hits = 0
    for route, proc in stemcheck_processors(tree.getroot()):
        if route != args.route:
            continue
        state = read_state(proc)
        state.setdefault("params", {})
        state.setdefault("fields", {})
        for k, v in params.items():
            state["params"][k] = v
        for k, v in fields.items():
            # each persisted field is a string holding that field's own JSON
            state["fields"][k] = json.dumps(v)
        write_state(proc, state)
        hits += 1
    if hits != 1:
        raise SystemExit("expected one Stemcheck on route %r, found %d" % (args.route, hits))
    tree.write(args.session_file, encoding="UTF-8", xml_declaration=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump", help="print every Stemcheck state in a session file as JSON")
    d.add_argument("session_file")
    d.set_defaults(func=cmd_dump)
    s = sub.add_parser("set", help="change the Stemcheck state on one route")
    s.add_argument("session_file")
    s.add_argument("--route", required=True)
    s.add_argument("--param", action="append", help='ID=JSON, e.g. window_low_db=\'{"f32": -10.0}\'')
    s.add_argument("--field", action="append", help='NAME=JSON value, e.g. auto_report=true')
    s.set_defaults(func=cmd_set)
    c = sub.add_parser("check", help="compare one route's Stemcheck state with expected values")
    c.add_argument("session_file")
    c.add_argument("--route", required=True)
    c.add_argument("--param", action="append", help="ID=plain number, or ID=\"enum id\"")
    c.add_argument("--field", action="append", help="NAME=JSON value")
    c.add_argument("--lua-log", help="play_session.lua output: also check its PARAM read-back")
    c.set_defaults(func=cmd_check)
    args = ap.parse_args()
    sys.exit(args.func(args) or 0)


if __name__ == "__main__":
    main()
