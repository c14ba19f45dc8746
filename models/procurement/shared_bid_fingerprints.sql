/* searchlight
id          = "procurement.shared_bid_fingerprints"
catalog     = "M35"
title       = "不同投标人电子投标文件同源(同一IP)"
title_en    = "Bids from different bidders uploaded from the same IP address"
domain      = "procurement"
area        = "招标投标"
severity    = "high"
owner       = "党风政风监督室"
description = """
电子招投标记录中，同一标段两个以上投标人的投标文件从同一IP地址上传的，为投标文件由同一单位或个人
编制、串通投标的疑点；同时列出网卡MAC、硬盘序列号是否也相同。同一IP分别投不同标段的不算。"""
basis = [
  "《中华人民共和国招标投标法实施条例》第四十条第(一)项：不同投标人的投标文件由同一单位或者个人编制，视为投标人相互串通投标",
  "《政府采购货物和服务招标投标管理办法》(财政部令第87号)第三十七条第(一)项：不同投标人的投标文件由同一单位或者个人编制，视为投标人串通投标",
]
entity = ["lot_no", "upload_ip"]
unit   = "buyer_name"
*/
WITH uploads AS (
    SELECT * FROM bids
    WHERE upload_ip IS NOT NULL AND (bid_time IS NULL OR CAST(bid_time AS DATE) <= $as_of)
),
shared AS (
    SELECT lot_no, upload_ip FROM uploads GROUP BY lot_no, upload_ip HAVING min(bidder_uscc) <> max(bidder_uscc)
)
SELECT
    b.lot_no,
    b.upload_ip,
    min(l.buyer_name)                              AS buyer_name,
    count(DISTINCT b.bidder_uscc)                  AS bidders,
    string_agg(DISTINCT b.bidder_name, '、')       AS bidder_names,
    min(b.mac) = max(b.mac)                        AS same_mac,
    min(b.disk_serial) = max(b.disk_serial)        AS same_disk
FROM uploads b
JOIN shared s ON s.lot_no = b.lot_no AND s.upload_ip = b.upload_ip
LEFT JOIN procurement_lots l ON l.lot_no = b.lot_no
GROUP BY b.lot_no, b.upload_ip
