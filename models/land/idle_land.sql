/* searchlight
id          = "land.idle_land"
catalog     = "M42"
title       = "闲置土地：超过约定动工日期满一年未动工"
title_en    = "Idle land: no construction a year after the agreed start date"
domain      = "land"
area        = "土地利用"
severity    = "medium"
owner       = "第三监督检查室"
description = """
出让合同与施工许可比对：超过合同约定动工开发日期满一年(可调)，截止日仍无施工许可、或施工许可载明的
开工日期晚于约定动工日期一年以上的，为闲置土地疑点；满两年的标注可无偿收回。"""
basis = [
  "《闲置土地处置办法》(国土资源部令第53号)第二条：超过国有建设用地使用权有偿使用合同约定的动工开发日期满一年未动工开发的国有建设用地，可以认定为闲置土地",
  "《闲置土地处置办法》第十四条：未动工开发满一年的，按照土地出让价款的百分之二十征缴土地闲置费；未动工开发满两年的，无偿收回国有建设用地使用权",
  "《中华人民共和国城市房地产管理法》第二十六条：超过出让合同约定的动工开发日期满一年未动工开发的，可以征收相当于土地使用权出让金百分之二十以下的土地闲置费；满二年未动工开发的，可以无偿收回土地使用权",
]
entity = ["contract_no"]
unit   = "region_code"
amount = "idle_fee"

optional = ["land_grants.grantee", "land_grants.land_use", "land_grants.area", "land_grants.price", "land_grants.region_code", "construction_permits.start_date", "construction_permits.issue_date"]
one_of   = [["construction_permits.start_date", "construction_permits.issue_date"]]

[labels]
disposal = "处置意见(闲置土地处置办法第十四条)"

[params]
idle_days = { type = "int", default = 365, min = 180, max = 1095, doc = "超过约定动工日期多少天未动工" }
fee_rate  = { type = "float", default = 0.2, min = 0.0, max = 0.2, doc = "土地闲置费比例" }
*/
WITH started AS (
    SELECT parcel_no, min(coalesce(start_date, issue_date)) AS started_on
    FROM construction_permits
    WHERE coalesce(start_date, issue_date) <= $as_of
    GROUP BY parcel_no
)
SELECT
    g.contract_no,
    g.parcel_no,
    g.grantee,
    g.land_use,
    g.area,
    g.price,
    g.region_code,
    g.agreed_start,
    s.started_on,
    coalesce(s.started_on, $as_of) - g.agreed_start                               AS days_idle,
    CASE WHEN coalesce(s.started_on, $as_of) - g.agreed_start >= 730 THEN '满两年，可无偿收回' ELSE '满一年，应征缴闲置费' END AS disposal,
    CAST(round(CAST(g.price AS DOUBLE) * $fee_rate, 2) AS DECIMAL(18, 2))          AS idle_fee
FROM land_grants g
LEFT JOIN started s ON s.parcel_no = g.parcel_no
WHERE g.agreed_start IS NOT NULL
  AND g.agreed_start + $idle_days < $as_of
  AND (s.started_on IS NULL OR s.started_on > g.agreed_start + $idle_days)
