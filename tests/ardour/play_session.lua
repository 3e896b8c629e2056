-- Loads the Stemcheck test session, checks the inserts, plays it from the start and stops.
--
-- arg[1] session directory   arg[2] session (snapshot) name
-- arg[3] seconds to play     arg[4] seconds to keep the engine running after the stop
-- arg[5] name of a snapshot to save at the end (what the plugins' states are then)
--
-- Prints, per Stemcheck insert, "PARAM <route> <index> <label> <value>" (Ardour's own view of
-- the plugin parameters after loading), "STEMCHECK_LOADED <n>", transport progress lines,
-- "METER <route> <channel> <max peak dBFS>" (Ardour's meters over the played range) and
-- ends with "PLAY_OK".

local dir, name = arg[1], arg[2]
local play_seconds, linger_seconds = tonumber(arg[3]), tonumber(arg[4])
local verify_snapshot = arg[5]
assert(dir and name and play_seconds and linger_seconds and verify_snapshot,
	"usage: play_session.lua DIR NAME PLAY_SECONDS LINGER_SECONDS VERIFY_SNAPSHOT")

local function fail(msg)
	print("PLAY_FAIL " .. msg)
	if Session then close_session() end
	error(msg)
end

if not load_session(dir, name) then fail("load_session failed") end
print("engine: sample rate " .. Session:nominal_sample_rate() .. ", block size " .. Session:get_block_size())

local loaded = 0
for r in Session:get_routes():iter() do
	local i = 0
	while true do
		local proc = r:nth_plugin(i)
		if proc:isnil() then break end
		local pi = proc:to_insert()
		if not pi:isnil() and pi:plugin(0):name() == "Stemcheck" then
			loaded = loaded + 1
			local plug = pi:plugin(0)
			for p = 0, plug:parameter_count() - 1 do
				if plug:parameter_is_input(p) then
					local value, ok = ARDOUR.LuaAPI.get_processor_param(proc, p, true)
					print(string.format("PARAM %s %d %s %s", r:name(), p, plug:parameter_label(p):gsub("%s", "_"), tostring(value)))
				end
			end
		end
		i = i + 1
	end
end
print("STEMCHECK_LOADED " .. loaded)

Session:request_locate(0, false, ARDOUR.LocateTransportDisposition.MustStop, ARDOUR.TransportRequestSource.TRS_UI)
sleep(0.5)
if Session:transport_sample() ~= 0 then fail("locate to 0 did not happen (at " .. Session:transport_sample() .. ")") end

-- Ardour's own meters, as a check of the routing that does not depend on the plugin.
for r in Session:get_routes():iter() do
	r:peak_meter():reset_max()
end
sleep(0.2)

Session:request_roll(ARDOUR.TransportRequestSource.TRS_UI)
local t0 = ARDOUR.LuaAPI.monotonic_time()
local last = -1
while (ARDOUR.LuaAPI.monotonic_time() - t0) < play_seconds * 1e6 do
	sleep(0.5)
	local pos = Session:transport_sample()
	print(string.format("ROLL pos %d rolling %s", pos, tostring(Session:transport_rolling())))
	if pos <= last then fail("transport position is not advancing") end
	last = pos
end
Session:request_stop(false, false, ARDOUR.TransportRequestSource.TRS_UI)
sleep(0.3)
if Session:transport_rolling() then fail("transport did not stop") end
print(string.format("STOPPED at %d samples", Session:transport_sample()))
for r in Session:get_routes():iter() do
	local pm = r:peak_meter()
	for c = 0, r:n_outputs():n_audio() - 1 do
		print(string.format("METER %s %d %.3f", r:name(), c, pm:meter_level(c, ARDOUR.MeterType.MeterMaxPeak)))
	end
end
-- The plugins write their report from a background thread after the stop: keep the engine up.
sleep(linger_seconds)
-- What the plugins hold after the run, as Ardour saves it (their getState), in a separate
-- snapshot: the caller checks that the injected state is still there.
if Session:save_state(verify_snapshot, false, false, false, false, false) ~= 0 then fail("save_state " .. verify_snapshot .. " failed") end
close_session()
print("PLAY_OK")
