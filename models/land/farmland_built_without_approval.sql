/* searchlight
id          = "land.farmland_built_without_approval"
catalog     = "M43"
title       = "卫片图斑新增建设占用耕地无合法批文"
title_en    = "Satellite change parcels building on farmland without approval"
domain      = "land"
area        = "耕地保护"
severity    = "high"
owner       = "生态环境和资源领域监督检查室"
description = """
卫片执法图斑中变化类型为新增建设且占用耕地的，与用地审批库比对：没有举证批文、批文号在审批库中不存在，
或批文批准日期晚于监测日期(先建后批)的，为违法占用耕地疑点。"""
basis = [
  "《中华人民共和国土地管理法》第四十四条：建设占用土地，涉及农用地转为建设用地的，应当办理农用地转用审批手续",
  "《中华人民共和国土地管理法》第七十七条：未经批准或者采取欺骗手段骗取批准，非法占用土地的，责令退还、限期拆除，可以并处罚款",
  "《中华人民共和国土地管理法实施条例》第五十六条：非法占用耕地的罚款标准",
]
entity = ["parcel_id"]
unit   = "region_code"

optional = ["satellite_parcels.region_code", "satellite_parcels.batch", "satellite_parcels.basic_farmland_area", "land_approvals.approval_type"]

[params]
change_type   = { type = "text",  default = "新增建设", doc = "视为建设的图斑变化类型" }
min_farmland  = { type = "float", default = 0.0, min = 0.0, max = 100000.0, doc = "占用耕地面积下限(平方米)" }
*/
SELECT
    s.parcel_id,
    s.region_code,
    s.batch,
    s.monitor_date,
    s.change_type,
    s.farmland_area,
    s.basic_farmland_area,
    s.approval_no,
    a.approval_type,
    a.approve_date,
    CASE
        WHEN s.approval_no IS NULL THEN '无批文'
        WHEN a.approval_no IS NULL THEN '批文号在审批库中不存在'
        ELSE '先建后批'
    END AS finding
FROM satellite_parcels s
LEFT JOIN land_approvals a ON a.approval_no = s.approval_no
WHERE s.change_type = $change_type
  AND s.farmland_area > $min_farmland
  AND s.monitor_date <= $as_of
  AND (s.approval_no IS NULL OR a.approval_no IS NULL OR a.approve_date > s.monitor_date)
