/* searchlight
id          = "procurement.shared_bid_fingerprints"
catalog     = "M35"
title       = "不同投标人电子投标文件同源(同一IP、MAC、机器码、硬盘或CA锁)"
title_en    = "Bids of different bidders sharing a bid-file fingerprint (IP, MAC, machine code, disk serial, CA lock)"
domain      = "procurement"
area        = "招标投标"
severity    = "high"
owner       = "党风政风监督室"
description = """
电子招投标记录中，同一标段两个以上投标人的投标文件有相同的电子特征——上传IP、网卡MAC、投标文件制作
机器码、硬盘序列号或CA锁——的，为投标文件由同一单位或个人编制、串通投标的疑点。平台导出哪种特征就比对哪种
(MAC不区分大小写与分隔符)；一组投标人为一条线索，列出其相同的全部特征。同一特征分别投不同标段的不算。"""
basis = [
  "《中华人民共和国招标投标法实施条例》第四十条第(一)项：不同投标人的投标文件由同一单位或者个人编制，视为投标人相互串通投标",
  "《政府采购货物和服务招标投标管理办法》(财政部令第87号)第三十七条第(一)项：不同投标人的投标文件由同一单位或者个人编制，视为投标人串通投标",
]
entity = ["lot_no", "bidders"]
unit   = "buyer_name"
optional = ["bids.bidder_name", "bids.bid_time", "procurement_lots", "procurement_lots.buyer_name", "bids.upload_ip", "bids.mac", "bids.machine_code", "bids.disk_serial", "bids.ca_lock"]
one_of   = [["bids.upload_ip", "bids.mac", "bids.machine_code", "bids.disk_serial", "bids.ca_lock"]]

[labels]
bidders = "投标人(统一社会信用代码)"
*/
WITH uploads AS (
    SELECT lot_no, bidder_uscc, bidder_name, upload_ip, machine_code, disk_serial, ca_lock,
           upper(replace(replace(replace(replace(mac, '-', ''), ':', ''), '.', ''), ' ', '')) AS mac
    FROM bids
    WHERE bidder_uscc IS NOT NULL AND (bid_time IS NULL OR CAST(bid_time AS DATE) <= $as_of)
),
shared AS (
    -- per fingerprint the platform exported: values of a lot that more than one bidder has
    -- (min <> max is the cheap form of count(DISTINCT) > 1)
    SELECT lot_no, 'IP' AS kind, upload_ip AS value FROM uploads WHERE coalesce(upload_ip, '') <> ''
    GROUP BY lot_no, upload_ip HAVING min(bidder_uscc) <> max(bidder_uscc)
    UNION ALL
    SELECT lot_no, 'MAC', mac FROM uploads WHERE coalesce(mac, '') <> ''
    GROUP BY lot_no, mac HAVING min(bidder_uscc) <> max(bidder_uscc)
    UNION ALL
    SELECT lot_no, '机器码', machine_code FROM uploads WHERE coalesce(machine_code, '') <> ''
    GROUP BY lot_no, machine_code HAVING min(bidder_uscc) <> max(bidder_uscc)
    UNION ALL
    SELECT lot_no, '硬盘', disk_serial FROM uploads WHERE coalesce(disk_serial, '') <> ''
    GROUP BY lot_no, disk_serial HAVING min(bidder_uscc) <> max(bidder_uscc)
    UNION ALL
    SELECT lot_no, 'CA锁', ca_lock FROM uploads WHERE coalesce(ca_lock, '') <> ''
    GROUP BY lot_no, ca_lock HAVING min(bidder_uscc) <> max(bidder_uscc)
),
sharing AS (
    -- each shared fingerprint with the bidders that share it
    SELECT s.lot_no, s.kind, s.value,
           array_to_string(array_sort(array_agg(DISTINCT u.bidder_uscc)), ',') AS bidders,
           array_to_string(array_sort(array_agg(DISTINCT u.bidder_name) FILTER (WHERE u.bidder_name IS NOT NULL)), '、') AS bidder_names
    FROM shared s
    JOIN uploads u ON u.lot_no = s.lot_no
                  AND s.value = CASE s.kind WHEN 'IP' THEN u.upload_ip WHEN 'MAC' THEN u.mac WHEN '机器码' THEN u.machine_code
                                            WHEN '硬盘' THEN u.disk_serial ELSE u.ca_lock END
    GROUP BY s.lot_no, s.kind, s.value
)
SELECT
    x.lot_no,
    x.bidders,
    min(l.buyer_name)                                           AS buyer_name,
    min(x.bidder_names)                                         AS bidder_names,
    count(*)                                                    AS shared_fingerprints,
    string_agg(x.kind || ' ' || x.value, '；' ORDER BY x.kind, x.value)  AS fingerprints
FROM sharing x
LEFT JOIN procurement_lots l ON l.lot_no = x.lot_no
GROUP BY x.lot_no, x.bidders
