-- Every filter given (filter_<dimension>: the value to match, or NULL for any) must match the
-- columns of _combination-parts; included by the filtered-* queries.
  WHERE (CAST(:filter_page AS VARCHAR(65535)) IS NULL OR page = :filter_page)
    AND (CAST(:filter_referrer AS VARCHAR(65535)) IS NULL OR referrer = :filter_referrer)
    AND (CAST(:filter_device AS VARCHAR(65535)) IS NULL OR device = :filter_device)
    AND (CAST(:filter_country AS VARCHAR(65535)) IS NULL OR country = :filter_country)
    AND (CAST(:filter_browser AS VARCHAR(65535)) IS NULL OR browser = :filter_browser)
    AND (CAST(:filter_os AS VARCHAR(65535)) IS NULL OR os = :filter_os)
    AND (CAST(:filter_utm_source AS VARCHAR(65535)) IS NULL OR utm_source = :filter_utm_source)
    AND (CAST(:filter_utm_medium AS VARCHAR(65535)) IS NULL OR utm_medium = :filter_utm_medium)
    AND (CAST(:filter_utm_campaign AS VARCHAR(65535)) IS NULL OR utm_campaign = :filter_utm_campaign)
