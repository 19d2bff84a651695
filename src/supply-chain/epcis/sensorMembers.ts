/**
 * The standard members of a sensor element's `sensorMetadata` and of its `sensorReport` entries, in the
 * order the event hash algorithm writes them. The document reader checks members against these lists and
 * the event hash writes them in this order, so the two cannot drift apart.
 */
export const SENSOR_METADATA_MEMBERS = [
  'time',
  'startTime',
  'endTime',
  'deviceID',
  'deviceMetadata',
  'rawData',
  'dataProcessingMethod',
  'bizRules',
] as const;

export const SENSOR_REPORT_MEMBERS = [
  'type',
  'exception',
  'deviceID',
  'deviceMetadata',
  'rawData',
  'dataProcessingMethod',
  'time',
  'microorganism',
  'chemicalSubstance',
  'value',
  'component',
  'stringValue',
  'booleanValue',
  'hexBinaryValue',
  'uriValue',
  'minValue',
  'maxValue',
  'meanValue',
  'sDev',
  'percRank',
  'percValue',
  'uom',
  'coordinateReferenceSystem',
] as const;
