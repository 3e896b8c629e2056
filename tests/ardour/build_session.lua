-- Builds the Stemcheck test session headlessly (run by ardour7-lua with the dummy backend).
--
-- arg[1] session directory (must not exist)   arg[2] session (snapshot) name
-- arg[3] sample rate                          arg[4] seconds to record
-- arg[5..] stem bus names; one mono track per bus, named "<bus>_src"
--
-- Layout: track (mono in, mono out) -> both inputs of its stereo bus -> master.
-- Stemcheck (VST3) is inserted at the top of every bus and of the master.
-- The tracks record a few seconds (of whatever the dummy inputs carry) so that Ardour
-- itself creates sources, regions and playlists; the caller then overwrites the
-- recorded files with the test signals.
-- Prints "STEMCHECK_INSERTED <n>" and ends with "BUILD_OK" on success.

local dir, name = arg[1], arg[2]
local rate, rec_seconds = tonumber(arg[3]), tonumber(arg[4])
local buses = {}
for i = 5, #arg do buses[#buses + 1] = arg[i] end
assert(dir and name and rate and rec_seconds and #buses > 0, "usage: build_session.lua DIR NAME RATE SECONDS BUS...")

local function fail(msg)
	print("BUILD_FAIL " .. msg)
	if Session then close_session() end
	error(msg)
end

local function connect(port, other)
	if port:connect(other) ~= 0 then fail("cannot connect " .. port:name() .. " -> " .. other) end
end

if not create_session(dir, name, rate) then fail("create_session failed") end
print("engine: sample rate " .. Session:nominal_sample_rate() .. ", block size " .. Session:get_block_size())

-- No automatic connections: Ardour's auto-connect runs in its own thread and would, some time
-- after the routes are made, also connect track outputs to the master.
ARDOUR.config():set_output_auto_connect(ARDOUR.AutoConnectOption.ManualConnect)
ARDOUR.config():set_input_auto_connect(ARDOUR.AutoConnectOption.ManualConnect)

local master = Session:master_out()
if master:isnil() then fail("session has no master bus") end

local inserted = 0
local function insert_stemcheck(route)
	-- A failed lookup returns a nil processor without raising: check it.
	local proc = ARDOUR.LuaAPI.new_plugin(Session, "Stemcheck", ARDOUR.PluginType.VST3, "")
	if proc:isnil() then
		print("plugin lookup failed for " .. route:name())
		return
	end
	if route:add_processor_by_index(proc, 0, nil, true) ~= 0 then
		print("could not add Stemcheck to " .. route:name())
		return
	end
	inserted = inserted + 1
end

local tracks = {}
for _, bname in ipairs(buses) do
	local rl = Session:new_audio_route(2, 2, nil, 1, bname, ARDOUR.PresentationInfo.Flag.AudioBus, ARDOUR.PresentationInfo.max_order)
	if rl:size() ~= 1 then fail("cannot create bus " .. bname) end
	local bus = rl:front()
	if bus:name() ~= bname then fail("bus was named " .. bus:name() .. ", not " .. bname) end

	local tl = Session:new_audio_track(1, 1, nil, 1, bname .. "_src", ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, false)
	if tl:size() ~= 1 then fail("cannot create track for " .. bname) end
	local track = tl:front()
	tracks[#tracks + 1] = track

	-- Track output: to both bus inputs only (no master, no panner: the mono output has none).
	track:output():disconnect_all(nil)
	connect(track:output():audio(0), bus:input():audio(0):name())
	connect(track:output():audio(0), bus:input():audio(1):name())
	-- Bus output: to the master only.
	bus:output():disconnect_all(nil)
	connect(bus:output():audio(0), master:input():audio(0):name())
	connect(bus:output():audio(1), master:input():audio(1):name())

	insert_stemcheck(bus)
end
insert_stemcheck(master)
print("STEMCHECK_INSERTED " .. inserted)

-- Check the wiring once anything asynchronous has settled.
sleep(1)
local m1, m2 = master:input():audio(0):name(), master:input():audio(1):name()
for i, t in ipairs(tracks) do
	local bus = Session:route_by_name(buses[i])
	local out = t:output():audio(0)
	if t:n_outputs():n_audio() ~= 1 then fail(t:name() .. " has " .. t:n_outputs():n_audio() .. " outputs, expected 1") end
	if not (out:connected_to(bus:input():audio(0):name()) and out:connected_to(bus:input():audio(1):name())) then
		fail(t:name() .. " does not feed both inputs of " .. bus:name())
	end
	if out:connected_to(m1) or out:connected_to(m2) then fail(t:name() .. " is also connected to the master") end
	if not (bus:output():audio(0):connected_to(m1) and bus:output():audio(1):connected_to(m2)) then
		fail(bus:name() .. " does not feed the master")
	end
end

-- Record a take on every track; its audio is replaced afterwards.
for _, t in ipairs(tracks) do
	t:rec_enable_control():set_value(1, PBD.GroupControlDisposition.NoGroup)
end
sleep(0.3)
Session:maybe_enable_record(false)
Session:request_locate(0, false, ARDOUR.LocateTransportDisposition.MustStop, ARDOUR.TransportRequestSource.TRS_UI)
sleep(0.3)
Session:request_roll(ARDOUR.TransportRequestSource.TRS_UI)
sleep(rec_seconds)
Session:request_stop(false, false, ARDOUR.TransportRequestSource.TRS_UI)
sleep(1)
Session:disable_record(false, false)
for _, t in ipairs(tracks) do
	t:rec_enable_control():set_value(0, PBD.GroupControlDisposition.NoGroup)
	if t:playlist():n_regions() ~= 1 then fail("track " .. t:name() .. " recorded " .. t:playlist():n_regions() .. " regions") end
	for r in t:playlist():region_list():iter() do
		print("TAKE " .. t:name() .. " " .. r:source(0):name() .. " " .. r:position():samples() .. " " .. r:length():samples())
	end
end
Session:request_locate(0, false, ARDOUR.LocateTransportDisposition.MustStop, ARDOUR.TransportRequestSource.TRS_UI)
sleep(0.3)

if Session:save_state("", false, false, false, false, false) ~= 0 then fail("save_state failed") end
close_session()
print("BUILD_OK")
