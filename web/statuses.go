package web

import "github.com/gin-gonic/gin"

func (s *Server) mountStatuses(r *gin.RouterGroup) {}
