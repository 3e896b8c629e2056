-- Stops and continues playback the way that broke passes: with Ardour's preference "Silence
-- plugins when the transport is stopped" on (Ardour then deactivates and activates every
-- insert at each stop) and a latent plugin in the session (Ardour then restarts a block, or
-- its latency, before where it stopped).
--
-- arg[1] session directory   arg[2] session name   arg[3] seconds to play before the stop
-- arg[4] seconds to play after continuing   arg[5] seconds to keep the engine running after
-- each stop (a report is written then)
--
-- Prints "LATENCY <samples>", "STOPPED at <sample>" after each stop and ends with
-- "STOPCONT_OK".

local dir, name = arg[1], arg[2]
local first, second, linger = tonumber(arg[3]), tonumber(arg[4]), tonumber(arg[5])
assert(dir and name and first and second and linger, "usage: stop_continue.lua DIR NAME FIRST SECOND LINGER")

local function fail(msg)
	print("STOPCONT_FAIL " .. msg)
	if Session then close_session() end
	error(msg)
end

if not load_session(dir, name) then fail("load_session failed") end

ARDOUR.config():set_plugins_stop_with_transport(true)
if not ARDOUR.config():get_plugins_stop_with_transport() then fail("the preference did not stick") end

local master = Session:master_out()
local latent = ARDOUR.LuaAPI.new_luaproc(Session, "Stemcheck Test Latency")
if latent:isnil() then fail("the latency script was not found in Ardour's scripts folder") end
-- After Stemcheck, which is the master's first plugin.
if master:add_processor_by_index(latent, 1, nil, true) ~= 0 then fail("cannot add the latency script") end
sleep(0.5)
print("LATENCY " .. latent:signal_latency() .. " (session output latency " .. Session:worst_output_latency() .. ")")
if latent:signal_latency() <= 0 then fail("the latency script reports no latency") end

Session:request_locate(0, false, ARDOUR.LocateTransportDisposition.MustStop, ARDOUR.TransportRequestSource.TRS_UI)
sleep(0.5)
if Session:transport_sample() ~= 0 then fail("locate to 0 did not happen") end

local function roll(seconds)
	local from = Session:transport_sample()
	Session:request_roll(ARDOUR.TransportRequestSource.TRS_UI)
	sleep(seconds)
	Session:request_stop(false, false, ARDOUR.TransportRequestSource.TRS_UI)
	sleep(0.3)
	if Session:transport_rolling() then fail("transport did not stop") end
	local to = Session:transport_sample()
	print(string.format("STOPPED at %d (played from %d)", to, from))
	if to <= from then fail("the transport did not advance") end
	sleep(linger)
end

roll(first)
roll(second)
close_session()
print("STOPCONT_OK")
