-- A latent plugin for the Ardour test: delays its input by LATENCY samples and reports that
-- latency to Ardour (a Lua DSP script, so the test needs no third-party plugin). run.sh puts
-- it into Ardour's user scripts folder; stop_continue.lua inserts it on the master after
-- Stemcheck, which gives the session an output latency, so Ardour restarts playback early.
ardour {
	["type"]    = "dsp",
	name        = "Stemcheck Test Latency",
	category    = "Utility",
	license     = "ISC",
	author      = "Stemcheck tests",
	description = [[Delays its input by a fixed number of samples and reports that latency to the host.]]
}

local LATENCY = 2000
local rings = {}
local at = 1

function dsp_ioconfig ()
	return { { audio_in = -1, audio_out = -1 } }
end

function dsp_configure (ins, outs)
	rings = {}
	for c = 1, ins:n_audio () do
		local r = {}
		for i = 1, LATENCY do r[i] = 0 end
		rings[c] = r
	end
	at = 1
end

function dsp_latency ()
	return LATENCY
end

function dsp_run (ins, outs, n_samples)
	local start = at
	for c = 1, #ins do
		local r = rings[c]
		local i, o = ins[c]:array (), outs[c]:array ()
		local k = start
		for s = 1, n_samples do
			local v = i[s]
			o[s] = r[k]
			r[k] = v
			k = k + 1
			if k > LATENCY then k = 1 end
		end
		at = k
	end
end
