# shrink-cfg.awk: a Darknet cfg made cheap to parse for the cfg fuzz corpus:
# same sections in the same order, [net] at 64x64 with batch 1, and the
# filters of every conv (output of every connected layer) divided by 16
# except right before a [yolo]/[region]/[detection] head, whose input size
# is fixed by its own options.  Depthwise convs (groups = filters) keep
# groups = filters.  Comments and blank lines are dropped.
{
    line = $0
    sub(/#.*/, "", line); gsub(/[ \t\r]/, "", line)
    if (line == "") next
    if (line ~ /^\[/) { ns++; type[ns] = line; nk[ns] = 0; next }
    k = ++nk[ns]; split(line, kv, "="); key[ns, k] = kv[1]; val[ns, k] = substr(line, length(kv[1]) + 2)
}
END {
    for (s = 1; s <= ns; s++) {
        nxt = (s < ns) ? type[s + 1] : ""
        head = (nxt == "[yolo]" || nxt == "[region]" || nxt == "[detection]")
        f = ""; g = ""
        for (k = 1; k <= nk[s]; k++) { if (key[s, k] == "filters") f = val[s, k]; if (key[s, k] == "groups") g = val[s, k] }
        print (s > 1 ? "\n" : "") type[s]
        for (k = 1; k <= nk[s]; k++) {
            v = val[s, k]
            if (s == 1 && (key[s, k] == "width" || key[s, k] == "height")) v = 64
            if (s == 1 && (key[s, k] == "batch" || key[s, k] == "subdivisions")) v = 1
            if (!head && (type[s] == "[convolutional]" || type[s] == "[conv]") && key[s, k] == "filters" && v + 0 >= 32) v = int(v / 16)
            if (!head && (type[s] == "[convolutional]" || type[s] == "[conv]") && key[s, k] == "groups" && g == f && f + 0 >= 32) v = int(v / 16)
            if (!head && (type[s] == "[connected]" || type[s] == "[conn]") && key[s, k] == "output" && v + 0 >= 32) v = int(v / 16)
            print key[s, k] "=" v
        }
    }
}
