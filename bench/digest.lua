-- digest.lua: wrk script for HTTP Digest (RFC 7616, MD5, qop=auth).
--
-- A Digest nonce comes from the server and changes, so nothing can be
-- precomputed: the first request of a thread goes without credentials, the
-- 401's WWW-Authenticate gives realm, nonce and opaque, and every request
-- after it carries a fresh response with the next nonce count.  A stale or
-- refused answer (401 again) takes the new challenge.  virtmcd accepts a
-- count only above the last one accepted for that nonce, so run one
-- connection per thread (wrk -tN -cN): the counts then reach the server in
-- order.
--
--   wrk -tN -cN ... -s digest.lua URL -- USER PASSWORD [fake]
--
-- With "fake" (the bare ceiling, which never challenges) it computes the
-- same hashes per request over a made-up nonce, so that the client spends
-- on the ceiling what it spends on virtmcd.

local bit = require("bit")
local band, bor, bxor, bnot, rol, tobit, bswap, tohex =
    bit.band, bit.bor, bit.bxor, bit.bnot, bit.rol, bit.tobit, bit.bswap, bit.tohex
local byte, char, rep, format = string.byte, string.char, string.rep, string.format

local K, S = {}, {}
do
    local s = { { 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 } }
    for i = 0, 63 do
        K[i] = tobit(math.floor(math.abs(math.sin(i + 1)) * 4294967296))
        S[i] = s[math.floor(i / 16) + 1][i % 4 + 1]
    end
end

local function md5hex(msg)
    local len = #msg
    msg = msg .. "\128" .. rep("\0", (55 - len) % 64)
    local bits = len * 8
    for _ = 1, 8 do
        msg = msg .. char(bits % 256)
        bits = math.floor(bits / 256)
    end
    local a0, b0, c0, d0 = tobit(0x67452301), tobit(0xefcdab89), tobit(0x98badcfe), tobit(0x10325476)
    local M = {}
    for off = 1, #msg, 64 do
        for j = 0, 15 do
            local p = off + j * 4
            local w0, w1, w2, w3 = byte(msg, p, p + 3)
            M[j] = tobit(w0 + w1 * 256 + w2 * 65536 + w3 * 16777216)
        end
        local A, B, C, D = a0, b0, c0, d0
        for i = 0, 63 do
            local F, g
            if i < 16 then
                F = bor(band(B, C), band(bnot(B), D)); g = i
            elseif i < 32 then
                F = bor(band(D, B), band(bnot(D), C)); g = (5 * i + 1) % 16
            elseif i < 48 then
                F = bxor(B, C, D); g = (3 * i + 5) % 16
            else
                F = bxor(C, bor(B, bnot(D))); g = (7 * i) % 16
            end
            F = tobit(F + A + K[i] + M[g])
            A, D, C = D, C, B
            B = tobit(B + rol(F, S[i]))
        end
        a0, b0, c0, d0 = tobit(a0 + A), tobit(b0 + B), tobit(c0 + C), tobit(d0 + D)
    end
    return tohex(bswap(a0)) .. tohex(bswap(b0)) .. tohex(bswap(c0)) .. tohex(bswap(d0))
end

local user, password = "bench", "bench"
local realm, nonce, opaque = nil, nil, nil
local ha1, ha2
local nc = 0
local path

function init(args)
    user = args[1] or user
    password = args[2] or password
    path = wrk.path
    ha2 = md5hex("GET:" .. path)
    if args[3] == "fake" then
        realm = "virtmcd"
        nonce = rep("0", 64)
        ha1 = md5hex(user .. ":" .. realm .. ":" .. password)
    end
    -- Self-check against RFC 1321's test vector.
    assert(md5hex("abc") == "900150983cd24fb0d6963f7d28e17f72", "md5 self-test")
end

function request()
    if not nonce then
        return wrk.format("GET", path)
    end
    nc = nc + 1
    local ncs = format("%08x", nc)
    local cnonce = format("%016x", nc)
    local response = md5hex(ha1 .. ":" .. nonce .. ":" .. ncs .. ":" .. cnonce .. ":auth:" .. ha2)
    local h = format('Digest username="%s", realm="%s", nonce="%s", uri="%s", qop=auth, '
        .. 'nc=%s, cnonce="%s", response="%s", algorithm=MD5', user, realm, nonce, path, ncs,
        cnonce, response)
    if opaque then
        h = h .. format(', opaque="%s"', opaque)
    end
    return wrk.format("GET", path, { Authorization = h })
end

function response(status, headers, body)
    if status ~= 401 then
        return
    end
    for k, v in pairs(headers) do
        if k:lower() == "www-authenticate" and v:find("^%s*Digest") then
            realm = v:match('realm="([^"]*)"')
            nonce = v:match('nonce="([^"]*)"')
            opaque = v:match('opaque="([^"]*)"')
            ha1 = md5hex(user .. ":" .. realm .. ":" .. password)
            nc = 0
        end
    end
end
