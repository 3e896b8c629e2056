-- Exports the session with Ardour's own offline export (the engine freewheels: no audio
-- device paces it), from the session start for a number of seconds, to a WAV file at the
-- session rate. Stemcheck is on every stem bus and on the master, as for a stem bounce.
--
-- arg[1] session directory   arg[2] session name   arg[3] export folder   arg[4] seconds
-- arg[5] seconds to keep the engine running after the export (the report is written then)
--
-- Prints "EXPORTED <seconds of audio> in <wall seconds>" and ends with "EXPORT_OK".

local dir, name, folder = arg[1], arg[2], arg[3]
local seconds, linger = tonumber(arg[4]), tonumber(arg[5])
assert(dir and name and folder and seconds and linger, "usage: export_session.lua DIR NAME FOLDER SECONDS LINGER")

local function fail(msg)
	print("EXPORT_FAIL " .. msg)
	if Session then close_session() end
	error(msg)
end

if not load_session(dir, name) then fail("load_session failed") end
-- Silence plugins when stopped: one more deactivation around the export.
ARDOUR.config():set_plugins_stop_with_transport(true)

local e = Session:simple_export()
-- "WAV @ session-rate" (Ardour's wav.preset).
if not e:set_preset("75969a1c-3133-4694-864b-a1fa50e43348") then fail("no WAV preset") end
e:set_folder(folder)
e:set_name("mix")
e:set_range(0, math.floor(seconds * Session:nominal_sample_rate()))
local t0 = ARDOUR.LuaAPI.monotonic_time()
if not e:run_export() then fail("the export failed") end
local wall = (ARDOUR.LuaAPI.monotonic_time() - t0) / 1e6
print(string.format("EXPORTED %.1f s of audio in %.3f s", seconds, wall))
sleep(linger)
close_session()
print("EXPORT_OK")
