/* searchlight
id          = "land.basic_farmland_occupied"
catalog     = "M43"
title       = "卫片图斑占用永久基本农田"
title_en    = "Satellite change parcels on permanent basic farmland"
domain      = "land"
area        = "耕地保护"
severity    = "high"
owner       = "第三监督检查室"
description = """
卫片执法图斑中，新增建设、推土、硬化等变化占用永久基本农田面积达到阈值的(不论有无用地批文)：
永久基本农田除国家重点建设项目选址确实难以避让并经国务院批准外不得占用，应逐宗核查批准层级。"""
basis = [
  "《中华人民共和国土地管理法》第三十五条：永久基本农田经依法划定后，任何单位和个人不得擅自占用或者改变其用途；重大建设项目选址确实难以避让永久基本农田，涉及农用地转用或者土地征收的，必须经国务院批准",
  "《基本农田保护条例》(国务院令第257号)第十七条：禁止任何单位和个人在基本农田保护区内建窑、建房、建坟、挖砂、采石、采矿、取土、堆放固体废弃物或者进行其他破坏基本农田的活动",
  "《中华人民共和国刑法》第三百四十二条：违反土地管理法规，非法占用耕地改作他用，数量较大，造成耕地大量毁坏的，处五年以下有期徒刑或者拘役",
]
entity = ["parcel_id"]
unit   = "region_code"

optional = ["satellite_parcels.region_code", "satellite_parcels.batch", "satellite_parcels.area", "satellite_parcels.farmland_area", "satellite_parcels.approval_no", "satellite_parcels.current_use", "satellite_parcels.monitor_date", "land_approvals"]

[params]
change_types   = { type = "text", default = "新增建设|推土|硬化", doc = "需核查的变化类型(正则)" }
min_basic_area = { type = "float", default = 1.0, min = 0.0, max = 100000.0, doc = "占用永久基本农田面积下限(平方米)" }
*/
SELECT
    s.parcel_id,
    s.region_code,
    s.batch,
    s.monitor_date,
    s.change_type,
    s.area,
    s.farmland_area,
    s.basic_farmland_area,
    round(s.basic_farmland_area / 666.6667, 2)     AS basic_farmland_mu,
    s.approval_no,
    a.approval_type,
    s.current_use
FROM satellite_parcels s
LEFT JOIN land_approvals a ON a.approval_no = s.approval_no
WHERE regexp_like(s.change_type, $change_types)
  AND s.basic_farmland_area >= $min_basic_area
  AND (s.monitor_date IS NULL OR s.monitor_date <= $as_of)
